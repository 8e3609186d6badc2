"""Refresh tokens for local accounts: opaque random strings, stored only as SHA-256 hashes.

A refresh token is 256 random bits, so a plain SHA-256 (no salt, no slow hash) is enough: there is
nothing to guess. The `rt_` prefix lets the log filter recognise and redact one if it ever reaches
a log line by mistake.
"""

from __future__ import annotations

import hashlib
import re
import secrets

PREFIX = "rt_"
PATTERN = re.compile(r"\brt_[A-Za-z0-9_-]{40,}")


def new_refresh_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
