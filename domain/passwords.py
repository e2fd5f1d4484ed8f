"""Password hashing, shared by sign-in (the API) and whoever creates users (the seed)."""

from __future__ import annotations

import secrets
from functools import lru_cache

from pwdlib import PasswordHash

_hasher = PasswordHash.recommended()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return _hasher.verify(password, password_hash)


@lru_cache(maxsize=1)
def _stand_in_hash() -> str:
    """A hash of a random password nobody knows, made like every user's hash (so verifying
    against it costs the same)."""
    return _hasher.hash(secrets.token_urlsafe(32))


def verify_password_or_stand_in(password: str, password_hash: str | None) -> bool:
    """Verify ``password``; with no hash (an unknown or inactive user) verify it against the
    stand-in hash and refuse, so sign-in takes as long whether or not the user exists."""
    if password_hash is None:
        _hasher.verify(password, _stand_in_hash())
        return False
    return _hasher.verify(password, password_hash)
