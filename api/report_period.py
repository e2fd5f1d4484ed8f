"""The period a report covers, read from its ``from`` and ``to`` parameters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from api.errors import InvalidRequest
from api.schemas.types import in_utc

# Without ``from`` and ``to`` a report covers the 30 days up to now.
DEFAULT_DAYS = 30
# Throughput answers every bucket; this many at most (about 2.7 years of days).
MAX_BUCKETS = 1000


@dataclass(frozen=True)
class Period:
    """From (inclusive) up to (exclusive), aware and in UTC."""

    start: datetime
    end: datetime

    def params(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end}

    @classmethod
    def of(cls, start: str | None, end: str | None, *, now: datetime | None = None) -> Period:
        """The period ``from``/``to`` name: each an ISO date or a datetime with a time zone. A
        date ``from`` starts at that day's midnight (UTC); a date ``to`` includes that day.
        Without ``to`` the period ends now; without ``from`` it starts ``DEFAULT_DAYS`` before
        its end."""
        upper = _moment("to", end, whole_day=True) if end else (now or datetime.now(UTC))
        lower = _moment("from", start) if start else upper - timedelta(days=DEFAULT_DAYS)
        if lower >= upper:
            raise InvalidRequest("from must be before to")
        return cls(lower, upper)


def _moment(name: str, value: str, *, whole_day: bool = False) -> datetime:
    """An ISO date (midnight UTC; with ``whole_day``, the midnight after) or an aware
    datetime, within the window every input is held to."""
    try:
        if len(value) == len("2026-12-01"):
            day = date.fromisoformat(value)
            moment = datetime.combine(day, time(), tzinfo=UTC)
            if whole_day:
                moment += timedelta(days=1)
        else:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                raise InvalidRequest(f"{name} needs a time zone, e.g. {value}Z")
        return in_utc(moment)
    except ValueError as err:
        raise InvalidRequest(
            f"{name} must be an ISO date (2026-12-01) or a datetime with a time zone "
            f"(2026-12-01T08:00:00+08:00) from 2000 up to 2100: {err}"
        ) from None


def check_buckets(period: Period, bucket: Literal["day", "week"]) -> None:
    days = (period.end - period.start).days + 1
    count = days if bucket == "day" else days // 7 + 2
    if count > MAX_BUCKETS:
        raise InvalidRequest(
            f"the period holds {count} {bucket}s; at most {MAX_BUCKETS} buckets, "
            "take a shorter period or a longer bucket"
        )
