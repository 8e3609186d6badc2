"""Fixtures of the browser tests: Debian's Chromium through Playwright, against the deployed service.

The service is the real one the session deploys (Ray Serve, the pipeline, PostgreSQL), shared with
the serving tests through tests/support/ray_cluster. Chromium's fake camera plays a .y4m made from
the astronaut in a temp folder (tests/browser/fake_camera.py); one browser per camera stream, since
the stream is a launch argument. Screenshots of every screen land in test-artifacts/browser/.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from weakref import WeakKeyDictionary

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from tests.browser.fake_camera import selfie_frame, write_y4m
from tests.support.postgres import postgres_url  # noqa: F401 (fixture)
from tests.support.ray_cluster import ServedApp, deploy_service, ray_cluster  # noqa: F401 (fixture)

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
# No network on the build machine or in CI: without these Chromium keeps dialling Google's services.
QUIET = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
]
# Counts object URLs as the page makes and revokes them, so a test can see none is left alive.
_WATCH_OBJECT_URLS = """(() => {
  const live = new Set();
  const create = URL.createObjectURL.bind(URL), revoke = URL.revokeObjectURL.bind(URL);
  URL.createObjectURL = (object) => { const url = create(object); live.add(url); return url; };
  URL.revokeObjectURL = (url) => { live.delete(url); revoke(url); };
  Object.defineProperty(window, "__liveObjectUrls", { get: () => [...live] });
})();"""
DARK_ROOM = 0.08  # the fake camera's exposure for "too dark"
TIMEOUT_MS = 60_000  # a shared 2-core machine: generous, and only ever a ceiling on a wait
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="session")
def service(ray_cluster, postgres_url) -> ServedApp:  # noqa: F811
    return deploy_service(postgres_url)


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    """Package-scoped: Playwright's sync API runs an event loop in this thread until it stops, and
    later tests in the session call asyncio.run(), which refuses to start inside a running loop."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (scripts/ensure-system-tools.sh installs it as root)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def cameras(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("camera")
    return {
        "astronaut": write_y4m(folder / "astronaut.y4m", selfie_frame()),
        "dark": write_y4m(folder / "dark.y4m", selfie_frame(DARK_ROOM)),
    }


def _launch(playwright: Playwright, video: Path | None) -> Browser:
    """Chromium whose camera plays `video`; with None, a browser without a camera (a desktop)."""
    camera = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=[*QUIET, *(camera if video else [])]
    )


@pytest.fixture(scope="package")
def browser(playwright: Playwright, cameras: dict[str, Path]) -> Iterator[Browser]:
    launched = _launch(playwright, cameras["astronaut"])
    yield launched
    launched.close()


@pytest.fixture(scope="package")
def dark_browser(playwright: Playwright, cameras: dict[str, Path]) -> Iterator[Browser]:
    launched = _launch(playwright, cameras["dark"])
    yield launched
    launched.close()


@pytest.fixture(scope="package")
def cameraless_browser(playwright: Playwright) -> Iterator[Browser]:
    launched = _launch(playwright, None)
    yield launched
    launched.close()


PageFactory = Callable[..., Page]
_SCRIPT_ERRORS: WeakKeyDictionary[Page, list[str]] = WeakKeyDictionary()


def live_object_urls(page: Page) -> list[str]:
    """Object URLs (blob:) the page made and has not revoked."""
    return [str(url) for url in page.evaluate("() => window.__liveObjectUrls")]


def script_errors(page: Page) -> list[str]:
    """Uncaught errors the app's scripts threw in this page so far."""
    return _SCRIPT_ERRORS.get(page, [])


def _pages(browser: Browser, service: ServedApp, camera: bool = True) -> Iterator[PageFactory]:
    contexts: list[BrowserContext] = []

    def open_page(
        width: int = 1280, height: int = 900, locale: str = "en-US", reduced_motion: bool = False
    ) -> Page:
        context = browser.new_context(
            base_url=service.base_url,
            reduced_motion="reduce" if reduced_motion else "no-preference",
            viewport={"width": width, "height": height},
            locale=locale,
            permissions=["camera"] if camera else [],
            accept_downloads=True,
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(_WATCH_OBJECT_URLS)
        contexts.append(context)
        page = context.new_page()
        errors = _SCRIPT_ERRORS.setdefault(page, [])
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def new_page(browser: Browser, service: ServedApp) -> Iterator[PageFactory]:
    """Opens pages in fresh contexts (own storage) on the astronaut camera; closed after the test."""
    yield from _pages(browser, service)


@pytest.fixture
def dark_page(dark_browser: Browser, service: ServedApp) -> Iterator[PageFactory]:
    yield from _pages(dark_browser, service)


@pytest.fixture
def cameraless_page(cameraless_browser: Browser, service: ServedApp) -> Iterator[PageFactory]:
    yield from _pages(cameraless_browser, service, camera=False)


def screenshot(page: Page, name: str) -> None:
    """Save the screen as a test artifact (git-ignored), the whole page, not only the viewport."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
