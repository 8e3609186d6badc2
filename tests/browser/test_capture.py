"""The lighting coach and refusals in Chromium: a dark camera keeps the shutter off, and a photo the
server refuses is explained with its code's advice and a way to retake it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PageFactory, live_object_urls, screenshot, script_errors
from tests.browser.flows import ANALYSIS_TIMEOUT_MS, sign_up
from tests.support import faces

METER_READINGS = 8  # the meter reads four times a second: two seconds of a dark room


def test_dark_camera_says_too_dark_and_keeps_the_shutter_disabled(dark_page: PageFactory) -> None:
    page = dark_page(width=375, height=812)
    sign_up(page, "en")
    coach = page.locator(".coach")
    expect(coach).to_have_attribute("data-coach", "coach_too_dark")
    expect(coach).to_have_text(re.compile("^Too dark"))
    expect(page.locator(".meter")).to_have_attribute("data-verdict", "bad")
    # Not a moment's reading: it stays off over several readings of the same dark room.
    readings = page.evaluate(
        """(count) => new Promise((resolve) => {
            const bar = document.querySelector('.meter-bar');
            const states = [];
            const observer = new MutationObserver(() => {
                states.push(document.querySelector('.shutter').disabled);
                if (states.length >= count) { observer.disconnect(); resolve(states); }
            });
            observer.observe(document.querySelector('.readings'), {childList: true});
        })""",
        METER_READINGS,
    )
    assert readings == [True] * METER_READINGS
    expect(page.get_by_role("button", name="Take photo")).to_be_disabled()
    screenshot(page, "capture-too-dark")
    assert script_errors(page) == []


def upload(page: Page, jpeg: bytes) -> None:
    """Choose a photo with the upload fallback (from memory: nothing is written to disk)."""
    photo = {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": jpeg}
    page.locator("#upload-input").set_input_files(photo)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("photo", "code", "advice", "problem"),
    [
        pytest.param(
            faces.exposed(-4.5), "POOR_LIGHTING_CONDITION", "not good enough", "too_dark", id="too-dark"
        ),
        pytest.param(faces.no_face(), "NO_FACE_DETECTED", "could not find a face", None, id="no-face"),
    ],
)
def test_a_refused_upload_shows_the_codes_advice_and_a_retake_button(
    new_page: PageFactory, photo, code: str, advice: str, problem: str | None
) -> None:
    page = new_page()
    sign_up(page, "en")
    upload(page, faces.encode_jpeg(photo))
    expect(page).to_have_url(re.compile(r"/analyzing/"))
    failure = page.locator(f"[data-error-code={code}]")
    expect(failure).to_be_visible(timeout=ANALYSIS_TIMEOUT_MS)
    expect(page.get_by_role("heading", level=1)).to_have_text("We could not analyse this photo")
    expect(failure.get_by_role("alert")).to_contain_text(advice)
    if problem:
        # The server's details name the problem; the app says what to change about it.
        expect(failure.locator(f"[data-problem={problem}]")).to_contain_text("face a window or a lamp")
    screenshot(page, f"refused-{code.lower()}")
    failure.get_by_role("link", name="Retake the photo").click()
    expect(page).to_have_url(re.compile(r"/capture$"))
    assert live_object_urls(page) == []  # the upload went from memory, through no object URL
    assert script_errors(page) == []


def test_without_a_camera_an_uploaded_photo_is_analysed(cameraless_page: PageFactory) -> None:
    page = cameraless_page()
    sign_up(page, "en")
    expect(page.locator(".no-camera")).to_have_text(re.compile("^No camera here"))
    expect(page.get_by_role("button", name="Take photo")).to_be_hidden()
    screenshot(page, "capture-no-camera")
    # Playwright does not show a Blob body, so watch what the page encodes: the photo is downscaled in
    # the browser to at most 1280 px on its long side and sent as a JPEG.
    page.evaluate(
        """() => { const toBlob = HTMLCanvasElement.prototype.toBlob;
                  window.__encoded = [];
                  HTMLCanvasElement.prototype.toBlob = function (done, type, quality) {
                    window.__encoded.push([this.width, this.height, type]);
                    return toBlob.call(this, done, type, quality); }; }"""
    )
    upload(page, faces.encode_jpeg(faces.resized(faces.astronaut(), 2400)))
    expect(page).to_have_url(re.compile(r"/result/[0-9a-f-]{36}$"), timeout=ANALYSIS_TIMEOUT_MS)
    expect(page.locator("[data-section=best] [data-hex]")).to_have_count(10)
    assert page.evaluate("() => window.__encoded") == [[1280, 1280, "image/jpeg"]]
    assert live_object_urls(page) == []
    assert script_errors(page) == []
