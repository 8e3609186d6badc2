"""Password hashing for local accounts: Argon2id through pwdlib.

Only the hash is ever stored. `verify_password` also reports when a stored hash was made with
weaker parameters than today's, so a successful login can upgrade it in place.
"""

from __future__ import annotations

from dataclasses import dataclass

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

_hasher = PasswordHash((Argon2Hasher(),))
# Verifying against this when the account does not exist keeps a failed login for an unknown name
# as slow as one for a known name, so response times do not reveal which names are registered.
_DECOY_HASH = _hasher.hash("decoy password that matches nothing")


@dataclass(frozen=True)
class PasswordCheck:
    ok: bool
    upgraded_hash: str | None = None  # set when the stored hash should be replaced


def hash_password(password: str) -> str:
    return str(_hasher.hash(password))


def verify_password(password: str, stored_hash: str | None) -> PasswordCheck:
    if stored_hash is None:
        _hasher.verify(password, _DECOY_HASH)
        return PasswordCheck(ok=False)
    ok, new_hash = _hasher.verify_and_update(password, stored_hash)
    return PasswordCheck(ok=bool(ok), upgraded_hash=new_hash if ok else None)
