"""Signing in: the password check, made as slow for an unknown user as for a wrong password,
behind a rate limit on failed attempts per username and per client address.

The attempts live in PostgreSQL, so the limit holds across every API process. An attempt is
written (and committed) before the password is checked, so guesses sent at once count against
each other; a refused attempt is taken back, since it checked nothing, and a successful sign-in
clears its username's failures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import TooManyRequests, Unauthorized
from config import Settings
from db.models import SignInAttempt, User
from domain.passwords import verify_password_or_stand_in

# The widths of the attempt columns; a longer username is counted by its first characters.
USERNAME_KEY_LENGTH = 200
ADDRESS_KEY_LENGTH = 64


@dataclass(frozen=True)
class _Failures:
    """Attempts in the window for one key, and when the oldest of them was made."""

    count: int
    oldest: datetime | None


async def authenticate(
    session: AsyncSession, settings: Settings, username: str, password: str, address: str
) -> User:
    """The active user ``username`` if ``password`` is theirs; 401 otherwise, 429 (with the
    seconds until the next try) once the username or the address failed too often."""
    now = datetime.now(UTC)
    window_start = now - settings.login_failure_window
    username_key = username[:USERNAME_KEY_LENGTH]
    address_key = address[:ADDRESS_KEY_LENGTH]

    await session.execute(delete(SignInAttempt).where(SignInAttempt.at < window_start))
    attempt = SignInAttempt(username=username_key, address=address_key, at=now)
    session.add(attempt)
    await session.flush()
    by_user, by_address = await _failures(session, username_key, address_key, window_start)
    # The counts include this attempt, so the limit-th failure is still let through.
    over = [
        failures
        for failures, limit in (
            (by_user, settings.login_max_failures_per_user),
            (by_address, settings.login_max_failures_per_address),
        )
        if failures.count > limit
    ]
    if over:
        await session.delete(attempt)
        await session.commit()
        retry_after = max(_seconds_until_clear(f, settings.login_failure_window, now) for f in over)
        raise TooManyRequests(
            "too many failed sign-ins for this user or from this address; try again later",
            retry_after=retry_after,
        )
    await session.commit()

    user = (await session.scalars(select(User).where(User.username == username))).one_or_none()
    known = user if user is not None and user.active else None
    if not verify_password_or_stand_in(password, known.password_hash if known else None):
        raise Unauthorized("wrong username or password")
    assert known is not None
    await session.execute(delete(SignInAttempt).where(SignInAttempt.username == username_key))
    await session.commit()
    return known


async def _failures(
    session: AsyncSession, username: str, address: str, window_start: datetime
) -> tuple[_Failures, _Failures]:
    """Attempts in the window for the username and for the address, in one read."""
    for_user = SignInAttempt.username == username
    for_address = SignInAttempt.address == address
    row = (
        await session.execute(
            select(
                func.count().filter(for_user),
                func.min(SignInAttempt.at).filter(for_user),
                func.count().filter(for_address),
                func.min(SignInAttempt.at).filter(for_address),
            ).where(and_(SignInAttempt.at >= window_start, or_(for_user, for_address)))
        )
    ).one()
    return _Failures(row[0], row[1]), _Failures(row[2], row[3])


def _seconds_until_clear(failures: _Failures, window: timedelta, now: datetime) -> int:
    """Whole seconds until the oldest failure leaves the window, and one more try is let in."""
    if failures.oldest is None:
        return 1
    return math.ceil((failures.oldest + window - now).total_seconds())
