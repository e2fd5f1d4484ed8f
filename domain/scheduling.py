"""Finite-capacity scheduling: which line finishes a work order earliest, and when each step
of its routing is planned.

A line makes ``units_per_hour`` units of any product it can make; a work order's run time on a
line is its quantity divided by that rate. Lines work one work order at a time, in booking
order, so a line is free once the last work order booked on it is planned to finish. The
routing's standard times split the run time into planned windows, one per step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal


@dataclass(frozen=True)
class LineCalendar:
    code: str
    units_per_hour: Decimal
    # Planned finish of the last open work order booked on the line, if any.
    booked_until: datetime | None


@dataclass(frozen=True)
class StepWindow:
    name: str
    start: datetime
    finish: datetime


@dataclass(frozen=True)
class Booking:
    line: str
    start: datetime
    finish: datetime
    steps: list[StepWindow]


def run_time(quantity: int, units_per_hour: Decimal) -> timedelta:
    return timedelta(hours=float(Decimal(quantity) / units_per_hour))


def earliest_booking(
    lines: list[LineCalendar],
    quantity: int,
    routing: list[tuple[str, Decimal]],
    now: datetime,
) -> Booking:
    """Book ``quantity`` units on the line that finishes them first (ties: the first code).

    ``routing`` is the ordered steps with their standard minutes per unit.
    """
    if not lines:
        raise ValueError("no production line to book")
    best: Booking | None = None
    for line in sorted(lines, key=lambda candidate: candidate.code):
        start = max(now, line.booked_until or now)
        finish = start + run_time(quantity, line.units_per_hour)
        if best is None or finish < best.finish:
            best = Booking(line.code, start, finish, [])
    assert best is not None
    return Booking(best.line, best.start, best.finish, _step_windows(best, routing))


def _step_windows(booking: Booking, routing: list[tuple[str, Decimal]]) -> list[StepWindow]:
    """Split the booked run time over the steps in proportion to their standard times."""
    total = sum((minutes for _, minutes in routing), Decimal(0))
    span = booking.finish - booking.start
    windows: list[StepWindow] = []
    cursor = booking.start
    for index, (name, minutes) in enumerate(routing):
        if index == len(routing) - 1:
            finish = booking.finish
        elif total > 0:
            finish = cursor + span * float(minutes / total)
        else:
            finish = cursor + span / len(routing)
        windows.append(StepWindow(name, cursor, finish))
        cursor = finish
    return windows
