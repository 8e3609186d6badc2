"""Serves the web app (`web/`): its pages and its static files, next to the API.

- Pages: a GET for one of the app's paths (`/`, `/login`, `/capture`, `/analyzing/{id}`,
  `/result/{id}`, `/history`) that asks for HTML (a browser navigation: `Accept: text/html`) gets
  `index.html`; the app routes on the client. Everything else goes on to the API, which keeps
  priority: `GET /history` from a script or curl is still the JSON history.
- Files: `GET /assets/<path>` answers the app's `.js`, `.css` and `.svg` files, nothing else.

Caching: every answer carries an ETag (a hash of the file) and `Cache-Control: no-cache`, so a
browser revalidates with `If-None-Match` and gets `304` while nothing changed. With no build step
there are no versioned file names to cache forever, and ES modules import each other by plain
relative paths, so revalidation is what keeps a deploy from mixing old and new modules.

The pages get their own Content-Security-Policy and Permissions-Policy (same-origin scripts only,
the camera for this origin; `serve_app.security.headers`); the API's stricter ones stay on the rest.
Serves files only; never reads or writes anything else.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

import web
from serve_app.security.headers import APP_CSP, APP_PERMISSIONS

WEB_ROOT = Path(web.__file__).resolve().parent
ASSETS_PREFIX = "/assets/"
APP_PAGES = re.compile(r"^/(?:login|capture|history|(?:analyzing|result)/[0-9A-Za-z-]{1,64})?/?$")
_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".html": "text/html; charset=utf-8",
}
_ASSET_SUFFIXES = frozenset({".js", ".css", ".svg"})


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    media_type: str
    etag: str


@lru_cache(maxsize=256)
def _load(path: Path, mtime_ns: int) -> StaticFile:
    """The file and its ETag, cached until the file changes (the mtime is part of the key)."""
    body = path.read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return StaticFile(body, _MEDIA_TYPES[path.suffix], etag)


def _asset(relative: str) -> Path | None:
    """The app file under web/ for an /assets/ path, or None (wrong type, outside web/, tests)."""
    if not relative or relative.startswith("tests/") or "\\" in relative:
        return None
    path = (WEB_ROOT / relative).resolve()
    if path.suffix not in _ASSET_SUFFIXES or not path.is_relative_to(WEB_ROOT) or not path.is_file():
        return None
    return path


def _wants_html(headers: Headers) -> bool:
    return "text/html" in headers.get("accept", "")


def resolve(path: str, headers: Headers) -> Path | None:
    """The file that answers this GET, or None to let the API answer it."""
    if path.startswith(ASSETS_PREFIX):
        return _asset(path.removeprefix(ASSETS_PREFIX))
    if APP_PAGES.match(path) and _wants_html(headers):
        return WEB_ROOT / "index.html"
    return None


class WebAppMiddleware:
    """Answers the app's pages and files; passes every other request to the API unchanged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        path = resolve(scope["path"], headers)
        if path is None:
            await self.app(scope, receive, send)
            return
        static = _load(path, path.stat().st_mtime_ns)
        not_modified = headers.get("if-none-match") == static.etag
        response_headers = [
            (b"content-type", static.media_type.encode()),
            (b"etag", static.etag.encode()),
            (b"cache-control", b"no-cache"),
            (b"content-security-policy", APP_CSP.encode()),
            (b"permissions-policy", APP_PERMISSIONS.encode()),
        ]
        if not not_modified:
            response_headers.append((b"content-length", str(len(static.body)).encode()))
        status = 304 if not_modified else 200
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        body = b"" if not_modified or scope["method"] == "HEAD" else static.body
        await send({"type": "http.response.body", "body": body})
