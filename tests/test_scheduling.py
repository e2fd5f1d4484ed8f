"""Finite-capacity scheduling and production progress as pure rules, without the stack."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest

from domain.progress import WorkOrderFacts, production_progress
from domain.scheduling import LineCalendar, earliest_booking, run_time

NOW = datetime(2024, 5, 6, 8, 0, tzinfo=UTC)
EVEN_ROUTING = [
    ("prepare", Decimal(10)),
    ("assemble", Decimal(10)),
    ("inspect", Decimal(10)),
]


def line(code: str, units_per_hour: str, booked_until: datetime | None = None) -> LineCalendar:
    return LineCalendar(code, Decimal(units_per_hour), booked_until)


# ---------------------------------------------------------------------------- run time


@pytest.mark.parametrize(
    ("quantity", "units_per_hour", "expected"),
    [
        (60, "60", timedelta(hours=1)),
        (30, "60", timedelta(minutes=30)),
        (15, "7.5", timedelta(hours=2)),
        (2, "3600", timedelta(seconds=2)),
    ],
)
def test_run_time_is_quantity_over_rate(
    quantity: int, units_per_hour: str, expected: timedelta
) -> None:
    assert run_time(quantity, Decimal(units_per_hour)) == expected


# ---------------------------------------------------------------------------- choosing a line


def test_busy_fast_line_beats_idle_slow_line_when_it_finishes_first() -> None:
    # The idle line needs 2 h; the fast one is busy for 1 h but then needs only 12 min.
    slow_idle = line("L-A", "10")
    fast_busy = line("L-B", "100", booked_until=NOW + timedelta(hours=1))

    booking = earliest_booking([slow_idle, fast_busy], 20, EVEN_ROUTING, NOW)

    assert booking.line == "L-B"
    assert booking.start == NOW + timedelta(hours=1)
    assert booking.finish == NOW + timedelta(hours=1, minutes=12)


def test_idle_line_wins_when_the_busy_one_would_finish_later() -> None:
    slow_idle = line("L-A", "10")
    fast_busy = line("L-B", "100", booked_until=NOW + timedelta(hours=3))

    booking = earliest_booking([fast_busy, slow_idle], 20, EVEN_ROUTING, NOW)

    assert (booking.line, booking.start, booking.finish) == (
        "L-A",
        NOW,
        NOW + timedelta(hours=2),
    )


def test_equal_finish_goes_to_the_first_code_whatever_the_list_order() -> None:
    lines = [line("L-C", "20"), line("L-A", "20"), line("L-B", "20")]

    assert earliest_booking(lines, 10, EVEN_ROUTING, NOW).line == "L-A"


def test_a_line_booked_only_in_the_past_starts_now() -> None:
    stale = line("L-A", "60", booked_until=NOW - timedelta(hours=5))

    booking = earliest_booking([stale], 30, EVEN_ROUTING, NOW)

    assert booking.start == NOW
    assert booking.finish == NOW + timedelta(minutes=30)


def test_no_line_is_refused() -> None:
    with pytest.raises(ValueError, match="no production line"):
        earliest_booking([], 10, EVEN_ROUTING, NOW)


# ---------------------------------------------------------------------------- step windows


def test_step_windows_are_contiguous_and_proportional_to_standard_minutes() -> None:
    routing = [("cut", Decimal(10)), ("weld", Decimal(30)), ("pack", Decimal(20))]

    booking = earliest_booking([line("L-A", "60")], 60, routing, NOW)

    assert [w.name for w in booking.steps] == ["cut", "weld", "pack"]
    assert [w.finish - w.start for w in booking.steps] == [
        timedelta(minutes=10),
        timedelta(minutes=30),
        timedelta(minutes=20),
    ]
    assert booking.steps[0].start == booking.start
    assert all(a.finish == b.start for a, b in pairwise(booking.steps))
    assert booking.steps[-1].finish == booking.finish


def test_last_step_ends_exactly_at_the_finish_even_when_thirds_do_not_divide() -> None:
    # 7 units at 60/h is 7 minutes: thirds of it are not whole microseconds.
    booking = earliest_booking([line("L-A", "60")], 7, EVEN_ROUTING, NOW)

    assert booking.steps[-1].finish == booking.finish == NOW + timedelta(minutes=7)
    assert all(a.finish == b.start for a, b in pairwise(booking.steps))
    third = timedelta(minutes=7) / 3
    for window in booking.steps:
        assert abs((window.finish - window.start) - third) < timedelta(milliseconds=1)


def test_steps_without_standard_minutes_share_the_run_time_evenly() -> None:
    routing = [("prepare", Decimal(0)), ("inspect", Decimal(0))]

    booking = earliest_booking([line("L-A", "60")], 30, routing, NOW)

    assert [(w.start, w.finish) for w in booking.steps] == [
        (NOW, NOW + timedelta(minutes=15)),
        (NOW + timedelta(minutes=15), NOW + timedelta(minutes=30)),
    ]


# ---------------------------------------------------------------------------- progress


def test_skipped_steps_count_as_done() -> None:
    scrapped_out = WorkOrderFacts(
        ["completed", "skipped", "skipped"],
        planned_finish=NOW + timedelta(hours=1),
        finished_at=NOW + timedelta(minutes=20),
    )
    replan = WorkOrderFacts(
        ["completed", "started", "pending"],
        planned_finish=NOW + timedelta(hours=2),
        finished_at=None,
    )

    progress = production_progress([scrapped_out, replan])

    assert (progress.steps_done, progress.steps_total, progress.percent) == (4, 6, 67)
    assert progress.planned_finish == NOW + timedelta(hours=2)
    assert progress.actual_finish is None


def test_cancelled_work_orders_are_left_out() -> None:
    cancelled = WorkOrderFacts(
        ["completed", "pending", "pending"],
        planned_finish=NOW + timedelta(hours=9),
        finished_at=None,
        cancelled=True,
    )
    done = WorkOrderFacts(
        ["completed", "completed"],
        planned_finish=NOW + timedelta(hours=1),
        finished_at=NOW + timedelta(minutes=50),
    )

    progress = production_progress([cancelled, done])

    assert (progress.steps_done, progress.steps_total, progress.percent) == (2, 2, 100)
    assert progress.planned_finish == NOW + timedelta(hours=1)
    assert progress.actual_finish == NOW + timedelta(minutes=50)


def test_actual_finish_is_the_last_finish_once_every_work_order_finished() -> None:
    first = WorkOrderFacts(["completed"], NOW + timedelta(hours=1), NOW + timedelta(hours=3))
    second = WorkOrderFacts(["completed"], NOW + timedelta(hours=2), NOW + timedelta(hours=2))
    still_open = WorkOrderFacts(["pending"], NOW + timedelta(hours=4), None)

    assert production_progress([first, second, still_open]).actual_finish is None
    assert production_progress([first, second]).actual_finish == NOW + timedelta(hours=3)


def test_nothing_to_make_is_zero_percent_with_no_dates() -> None:
    progress = production_progress([])

    assert (progress.steps_done, progress.steps_total, progress.percent) == (0, 0, 0)
    assert progress.planned_finish is None
    assert progress.actual_finish is None


def test_only_cancelled_work_orders_have_no_actual_finish() -> None:
    cancelled = WorkOrderFacts(["pending"], NOW, None, cancelled=True)

    progress = production_progress([cancelled])

    assert (progress.steps_total, progress.actual_finish) == (0, None)
