"""How the ingress serves the app beside the API: pages for browsers, files with ETags and the
app's own security policy, and the API keeping every path it answers."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.ray_cluster import ServedApp

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
JSON = {"Accept": "application/json"}


@pytest.fixture
def client(service: ServedApp) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.base_url, timeout=30) as http:
        yield http


SCREENS = ["/", "/login", "/capture", "/history", "/analyzing/abc-123", "/result/abc-123"]
NOT_APP_FILES = ["/assets/__init__.py", "/assets/tests/meter.test.js", "/assets/package.json", "/assets/x.js"]


@pytest.mark.parametrize("path", SCREENS)
def test_every_screen_address_answers_the_app_to_a_browser(client: httpx.Client, path: str) -> None:
    response = client.get(path, headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/assets/js/app.js">' in response.text
    csp = response.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp
    assert response.headers["permissions-policy"].startswith("camera=(self)")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-cache"


def test_the_api_keeps_its_paths_for_scripts(client: httpx.Client) -> None:
    history = client.get("/history", headers=JSON)
    assert history.status_code == 401
    assert history.json()["error"]["code"] == "UNAUTHORIZED"
    assert history.headers["cache-control"] == "no-store"
    assert client.get("/healthz", headers=HTML).json() == {"status": "ok", "checks": {}}


def test_files_are_revalidated_with_their_etag(client: httpx.Client) -> None:
    first = client.get("/assets/js/meter.js")
    assert first.status_code == 200
    assert first.headers["content-type"] == "text/javascript; charset=utf-8"
    assert first.headers["cache-control"] == "no-cache"
    again = client.get("/assets/js/meter.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize("path", NOT_APP_FILES)
def test_only_the_apps_own_files_are_served(client: httpx.Client, path: str) -> None:
    assert client.get(path).status_code == 404
