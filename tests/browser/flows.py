"""What the browser tests do again and again: sign up through the app, call its API client."""

from __future__ import annotations

import re
import uuid
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot

ANALYSIS_TIMEOUT_MS = 180_000
PASSWORD = "correct horse battery"
HEADINGS = {
    "en": {"login": "Find your colours", "capture": "Take a selfie", "history": "Your history"},
    "ko": {"login": "나에게 어울리는 색 찾기", "capture": "셀카 찍기", "history": "나의 기록"},
}
BUTTONS = {
    "en": {"register": "Create account", "shutter": "Take photo", "delete": "Delete"},
    "ko": {"register": "계정 만들기", "shutter": "사진 찍기", "delete": "삭제"},
}
SAVE_CARD = {"en": "Save palette card", "ko": "팔레트 카드 저장"}


def sign_up(page: Page, lang: str, screenshot_as: str | None = None) -> None:
    """Open the app signed out: it asks to sign in first; create an account and arrive at /capture."""
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fcapture$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(HEADINGS[lang]["login"])
    if screenshot_as:
        screenshot(page, screenshot_as)
    page.get_by_label(re.compile("User name|아이디")).fill(f"web-{uuid.uuid4().hex[:10]}")
    page.get_by_label(re.compile("^(Password|비밀번호)$")).fill(PASSWORD)
    page.get_by_role("button", name=BUTTONS[lang]["register"]).click()
    expect(page).to_have_url(re.compile(r"/capture$"))


def api(page: Page, call: str, *args: Any) -> Any:
    """Call the app's own API client inside the page (its in-memory token), e.g. api(page, "result", id)."""
    return page.evaluate(
        "async ([call, args]) => (await import('/assets/js/api.js'))[call](...args)", [call, list(args)]
    )


# Every visible control must have an accessible name, and every visible text WCAG AA contrast against
# the background it is drawn on (4.5:1; 3:1 for large text: 24 px, or 18.66 px bold). Disabled
# controls are exempt from contrast (WCAG 1.4.3), not from labels.
_AUDIT = """() => {
  const visible = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
  const named = (e) => (e.getAttribute('aria-label') || '').trim() || (e.labels && [...e.labels].some(
      (l) => l.textContent.trim())) || (e.textContent || '').trim() || e.getAttribute('title');
  const unlabelled = [...document.querySelectorAll('a, button, input, select, textarea, [role=meter]')]
    .filter((e) => (visible(e) || e.type === 'file') && !named(e)).map((e) => e.outerHTML.slice(0, 80));
  const rgba = (c) => { const m = c.match(/[\\d.]+/g).map(Number); return m.length === 3 ? [...m, 1] : m; };
  const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.04045 ? v / 12.92
      : ((v + 0.055) / 1.055) ** 2.4; }).reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const background = (e) => {
    for (let n = e; n; n = n.parentElement) {
      const c = rgba(getComputedStyle(n).backgroundColor);
      if (c[3] > 0.5) return c;
    }
    return [255, 255, 255, 1];
  };
  const low = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    const e = t.parentElement;
    const exempt = e.closest('[disabled], .viewfinder, dialog:not([open])');  // over video, or not shown
    if (!t.textContent.trim() || !visible(e) || exempt) continue;
    const style = getComputedStyle(e);
    const [a, b] = [lum(rgba(style.color)), lum(background(e))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) low.push(`${t.textContent.trim().slice(0, 40)}: ${ratio.toFixed(2)}`);
  }
  return {unlabelled, low};
}"""


def accessibility_problems(page: Page) -> dict[str, list[str]]:
    """Unlabelled controls and text below WCAG AA contrast on the current screen (empty lists: none)."""
    found = page.evaluate(_AUDIT)
    return {"unlabelled": list(found["unlabelled"]), "low_contrast": list(found["low"])}
