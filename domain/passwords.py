"""Password hashing, shared by sign-in (the API) and whoever creates users (the seed)."""

from __future__ import annotations

import secrets
from functools import lru_cache

from pwdlib import PasswordHash

_hasher = PasswordHash.recommended()


# What a new password must be (the demo seed's passwords predate the rule and are demo-only).
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128
MIN_DISTINCT_CHARACTERS = 4


def password_problems(password: str, username: str) -> list[str]:
    """Why ``password`` may not be set for ``username``; empty when it may."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"a password has at most {MAX_PASSWORD_LENGTH} characters")
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        problems.append(f"a password has at least {MIN_DISTINCT_CHARACTERS} different characters")
    if username and username.casefold() in password.casefold():
        problems.append("a password does not contain the username")
    return problems


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
