"""The whole journey in Chromium against the deployed service: sign up, capture through the fake
camera once the meter is green, analysing, the result with every swatch, the palette card, history,
back and forward, delete; at desktop width, at 375x812 and in Korean."""

from __future__ import annotations

import io
import re
import struct

import pytest
from PIL import Image
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import ARTIFACTS, PageFactory, live_object_urls, screenshot, script_errors
from tests.browser.flows import (
    ANALYSIS_TIMEOUT_MS,
    BUTTONS,
    HEADINGS,
    SAVE_CARD,
    accessibility_problems,
    api,
    sign_up,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NONE: dict[str, list[str]] = {"unlabelled": [], "low_contrast": []}


def hexes(page: Page, selector: str) -> list[str]:
    found = page.locator(f"{selector} [data-hex]").evaluate_all("items => items.map(i => i.dataset.hex)")
    return [str(hex_code) for hex_code in found]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE, "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


@pytest.mark.parametrize(
    ("lang", "locale", "width", "height"),
    [
        pytest.param("en", "en-US", 1280, 900, id="desktop-en"),
        pytest.param("en", "en-US", 375, 812, id="phone-en"),
        pytest.param("ko", "ko-KR", 375, 812, id="phone-ko"),
    ],
)
def test_journey_from_sign_up_to_palette_card_and_history(
    new_page: PageFactory, lang: str, locale: str, width: int, height: int
) -> None:
    page = new_page(width=width, height=height, locale=locale)
    name = f"{lang}-{width}x{height}"
    sign_up(page, lang, screenshot_as=f"{name}-1-login")

    # The meter turns green on the astronaut in daylight, and only then the shutter works.
    expect(page.get_by_role("heading", level=1)).to_have_text(HEADINGS[lang]["capture"])
    shutter = page.get_by_role("button", name=BUTTONS[lang]["shutter"])
    expect(page.locator(".meter")).to_have_attribute("data-verdict", re.compile("good|warn"))
    expect(shutter).to_be_enabled()
    expect(page.locator(".coach")).to_have_attribute("data-coach", "coach_good")
    screenshot(page, f"{name}-2-capture")
    assert accessibility_problems(page) == NONE
    shutter.click()

    expect(page).to_have_url(re.compile(r"/analyzing/[0-9a-f-]{36}$"))
    screenshot(page, f"{name}-3-analyzing")
    expect(page).to_have_url(re.compile(r"/result/[0-9a-f-]{36}$"), timeout=ANALYSIS_TIMEOUT_MS)
    result_id = page.url.rsplit("/", 1)[1]
    expect(page.locator("[data-section=best] [data-hex]").first).to_be_visible()
    screenshot(page, f"{name}-4-result")
    assert accessibility_problems(page) == NONE

    # Every swatch section shows exactly the API's colours, in its order.
    result = api(page, "result", result_id)
    expect(page.get_by_role("heading", level=1)).to_have_text(result["type_name"][lang])
    assert hexes(page, "[data-section=best]") == result["main_colors"]
    assert hexes(page, "[data-section=worst]") == result["worst_colors"]
    for part in ("lip", "blush", "eyeshadow"):
        assert hexes(page, f"[data-part={part}]") == result["makeup"][part]["colors"]
    assert hexes(page, "[data-section=hair]") == [color["hex"] for color in result["hair"]["colors"]]
    measured = [result["measured"][part] for part in ("skin", "eyes", "lips", "hair")]
    assert hexes(page, "[data-section=measured]") == [region["hex"] for region in measured if region]
    explained = [axis for axis in result["explanation"].values() if axis.get("text")]
    expect(page.locator("[data-section=explanation] [data-axis]")).to_have_count(len(explained))
    assert result["runner_up"]["type_name"][lang] in page.locator("#runner-up").inner_text()

    # The palette card: a PNG of the card's size whose first swatch is the first best colour.
    with page.expect_download() as download_info:
        page.get_by_role("button", name=SAVE_CARD[lang]).click()
    download = download_info.value
    assert download.suggested_filename == f"personal-color-{result['season_type']}.png"
    card = download.path().read_bytes()
    (ARTIFACTS / f"{name}-7-palette-card.png").write_bytes(card)
    assert png_size(card) == (1080, 1350)
    assert 20_000 < len(card) < 3_000_000
    image = Image.open(io.BytesIO(card)).convert("RGB")
    red, green, blue = image.getpixel((100, 340))  # type: ignore[misc]
    assert f"#{red:02x}{green:02x}{blue:02x}" == result["main_colors"][0]

    # History: the diagnosis is there; open it, come back with the back button, then delete it.
    page.get_by_role("link", name=re.compile("History|기록")).first.click()
    expect(page).to_have_url(re.compile(r"/history$"))
    row = page.locator(f".history-item[data-id='{result_id}']")
    expect(row).to_contain_text(result["type_name"][lang])
    screenshot(page, f"{name}-5-history")
    assert accessibility_problems(page) == NONE
    page.go_back()
    expect(page).to_have_url(re.compile(f"/result/{result_id}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(result["type_name"][lang])
    page.go_forward()
    expect(page).to_have_url(re.compile(r"/history$"))
    row.get_by_role("button", name=re.compile(BUTTONS[lang]["delete"])).click()
    dialog = page.get_by_role("dialog")
    screenshot(page, f"{name}-6-delete-confirm")
    dialog.get_by_role("button", name=BUTTONS[lang]["delete"], exact=True).click()
    expect(row).to_have_count(0)
    assert api(page, "history")["items"] == []

    # Nothing of the photo stays in the browser: storage holds the refresh token and, if chosen, the language.
    stored = page.evaluate("() => [...Object.keys(localStorage), ...Object.keys(sessionStorage)]")
    assert set(stored) <= {"lang", "refresh_token"}
    assert live_object_urls(page) == []
    assert script_errors(page) == []


def test_language_switch_persists_across_reloads(new_page: PageFactory) -> None:
    page = new_page(locale="en-US")
    page.goto("/login")
    expect(page.get_by_role("heading", level=1)).to_have_text(HEADINGS["en"]["login"])
    assert accessibility_problems(page) == NONE
    page.get_by_label("Language").select_option("ko")
    expect(page.get_by_role("heading", level=1)).to_have_text(HEADINGS["ko"]["login"])
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text(HEADINGS["ko"]["login"])
    assert page.evaluate("() => localStorage.getItem('lang')") == "ko"


def test_deleting_the_account_signs_out_and_removes_everything(new_page: PageFactory) -> None:
    page = new_page()
    sign_up(page, "en")
    page.goto("/history")
    page.get_by_role("button", name="Delete my account and all my data").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete everything").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    assert page.evaluate("() => sessionStorage.getItem('refresh_token')") is None
    # Signed out: every screen asks to sign in again.
    page.goto("/history")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fhistory$"))


def test_keyboard_focus_is_visible_on_every_control_of_the_sign_in(new_page: PageFactory) -> None:
    page = new_page()
    page.goto("/login")
    expect(page.get_by_role("heading", level=1)).to_be_focused()  # a new screen starts at its heading
    page.keyboard.press("Tab")  # from here on the page knows focus comes from the keyboard
    outlines = page.evaluate(
        """() => [...document.querySelectorAll('a[href], button, input, select')]
            .filter((e) => e.getClientRects().length > 0)
            .map((e) => { e.focus(); const s = getComputedStyle(e);
                          return `${e.outerHTML.slice(0, 40)}: ${s.outlineStyle} ${s.outlineWidth}`; })"""
    )
    assert len(outlines) >= 5
    assert all(outline.endswith("solid 3px") for outline in outlines), outlines


def test_a_network_blip_while_analysing_does_not_end_the_wait(new_page: PageFactory) -> None:
    page = new_page()
    sign_up(page, "en")
    expect(page.get_by_role("button", name="Take photo")).to_be_enabled()
    dropped: list[str] = []

    def drop_first_polls(route: Route) -> None:
        if len(dropped) < 3:
            dropped.append(route.request.url)
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route("**/analysis/status/*", drop_first_polls)
    page.get_by_role("button", name="Take photo").click()
    expect(page.locator(".stage")).to_have_text("Connection lost. Retrying…")
    expect(page).to_have_url(re.compile(r"/result/[0-9a-f-]{36}$"), timeout=ANALYSIS_TIMEOUT_MS)
    assert len(dropped) == 3


@pytest.mark.parametrize(("reduced", "animation"), [(False, "scan"), (True, "none")])
def test_the_scanning_line_moves_unless_motion_is_reduced(
    new_page: PageFactory, reduced: bool, animation: str
) -> None:
    page = new_page(reduced_motion=reduced)
    page.goto("/login")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    found = page.evaluate(
        """() => { const scanner = Object.assign(document.createElement('div'), {className: 'scanner'});
                  document.body.append(scanner);
                  return getComputedStyle(scanner, '::after').animationName; }"""
    )
    assert found == animation
