"""Settings come from the environment, with nested groups and the conventional DATABASE_URL."""

from __future__ import annotations

from typing import Any

import pytest

from serve_app.deployments.placement import actor_options, with_node_resources
from serve_app.settings import RaySettings, Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("DATABASE_URL", "DATABASE__URL", "RAY__AI_RESOURCE", "RAY__WEB_RESOURCE"):
        monkeypatch.delenv(name, raising=False)


def test_database_url_defaults_to_embedded_sqlite():
    assert Settings().database.url.startswith("sqlite:///")


def test_conventional_database_url_is_accepted(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg2://db.example/app")
    assert Settings().database.url == "postgresql+psycopg2://db.example/app"


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_plain_postgres_urls_use_the_driver_we_ship(monkeypatch, scheme):
    monkeypatch.setenv("DATABASE_URL", f"{scheme}://user@db.example:5432/app")
    assert Settings().database.url == "postgresql+psycopg2://user@db.example:5432/app"


def test_nested_variable_wins_over_the_conventional_one(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/one.db")
    monkeypatch.setenv("DATABASE__URL", "sqlite:////tmp/two.db")
    assert Settings().database.url == "sqlite:////tmp/two.db"


def test_database_url_is_not_in_the_repr(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://user:hunter2@db/app")
    assert "hunter2" not in repr(Settings())


def test_resource_names_are_configurable_and_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("RAY__AI_RESOURCE", "gpu_box")
    monkeypatch.setenv("RAY__WEB_RESOURCE", "")
    ray = Settings().ray
    assert ray.node_resources() == {"gpu_box": 1000.0}
    assert actor_options(0.25, ray.ai_resource, ray) == {"num_cpus": 0.25, "resources": {"gpu_box": 0.01}}
    assert actor_options(0.1, ray.web_resource, ray) == {"num_cpus": 0.1}


def test_serve_config_resources_follow_the_configured_names():
    config: dict[str, Any] = {
        "applications": [
            {
                "deployments": [
                    {
                        "name": "Ingress",
                        "ray_actor_options": {"num_cpus": 0.1, "resources": {"web_node": 0.01}},
                    },
                    {
                        "name": "Landmark",
                        "ray_actor_options": {"num_cpus": 0.25, "resources": {"ai_node": 0.01}},
                    },
                ]
            }
        ]
    }
    renamed = with_node_resources(config, RaySettings(web_resource="", ai_resource="models"))
    ingress, landmark = renamed["applications"][0]["deployments"]
    assert ingress["ray_actor_options"] == {"num_cpus": 0.1, "resources": {}}
    assert landmark["ray_actor_options"]["resources"] == {"models": 0.01}
    assert config["applications"][0]["deployments"][0]["ray_actor_options"]["resources"] == {"web_node": 0.01}
