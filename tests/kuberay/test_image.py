"""The Dockerfile agrees with what the cluster expects: one Ray version everywhere, the image tag the
manifests use, pinned dependencies, and a non-root user."""

from __future__ import annotations

import re
import tomllib

from kuberay.environment import load_values
from kuberay.rayservice import RAY_GID, RAY_UID
from tests.kuberay.conftest import REPO_ROOT

DOCKERFILE = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")


def locked(package: str) -> str:
    lock = (REPO_ROOT / "requirements.lock").read_text(encoding="utf-8")
    (version,) = re.findall(rf"^{re.escape(package)}==(\S+)$", lock, flags=re.MULTILINE | re.IGNORECASE)
    return str(version)


def test_one_ray_version_in_the_image_the_lock_and_the_manifests():
    (base,) = re.findall(r"^ARG RAY_IMAGE=rayproject/ray:(\S+)$", DOCKERFILE, flags=re.MULTILINE)
    ray_version, python_tag = base.split("-", 1)
    assert python_tag == "py311"
    assert ray_version == locked("ray")
    for environment in ("dev", "prod"):
        assert load_values(environment).text("ray.version") == ray_version


def test_manifests_use_the_projects_version_as_image_tag():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for environment in ("dev", "prod"):
        assert load_values(environment).text("image.tag") == project["version"]


def test_image_installs_against_the_lock_and_runs_unprivileged():
    assert DOCKERFILE.count("--constraint") >= 2
    users = re.findall(r"^USER (\S+)$", DOCKERFILE, flags=re.MULTILINE)
    # Numeric and equal to the pods' runAsUser/runAsGroup: the kubelet cannot check a user name.
    assert users[-1] == f"{RAY_UID}:{RAY_GID}" and RAY_UID != 0
    assert "libgl1" in DOCKERFILE and "libglib2.0-0" in DOCKERFILE
    assert "SeasonClassifier.from_path()" in DOCKERFILE


def test_build_context_keeps_what_the_image_needs():
    ignored = {
        line.strip()
        for line in (REPO_ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert not ignored & {
        "models",
        "pipeline",
        "serve_app",
        "db",
        "requirements.lock",
        "pyproject.toml",
        "README.md",
    }
    assert {".git", ".venv"} <= ignored
