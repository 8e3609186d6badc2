"""What the browser tests do again and again: sign up through the app, call its API client."""

from __future__ import annotations

import re
import uuid
from typing import Any

from playwright.sync_api import Page, expect

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


def sign_up(page: Page, lang: str) -> None:
    """Open the app signed out: it asks to sign in first; create an account and arrive at /capture."""
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fcapture$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(HEADINGS[lang]["login"])
    page.get_by_label(re.compile("User name|아이디")).fill(f"web-{uuid.uuid4().hex[:10]}")
    page.get_by_label(re.compile("^(Password|비밀번호)$")).fill(PASSWORD)
    page.get_by_role("button", name=BUTTONS[lang]["register"]).click()
    expect(page).to_have_url(re.compile(r"/capture$"))


def api(page: Page, call: str, *args: Any) -> Any:
    """Call the app's own API client inside the page (its in-memory token), e.g. api(page, "result", id)."""
    return page.evaluate(
        "async ([call, args]) => (await import('/assets/js/api.js'))[call](...args)", [call, list(args)]
    )
