"""What every order keeps, however it was driven: pure checks over rows read from PostgreSQL.

Both proofs use them: the stateful property test after every step, and the chaos harness after
its run. Each check answers the problems it found, in sentences that name the order, so a
failure reads as a bug report rather than a bare ``assert``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from domain.statuses import TERMINAL, TRANSITIONS, OrderStatus

S = OrderStatus
FAULT_PREFIX = "system fault"


@dataclass(frozen=True)
class HistoryRow:
    """One ``status_history`` row of an order."""

    seq: int
    from_status: str | None
    to_status: str
    actor: str = ""
    reason: str | None = None


def is_fault_hold(row: HistoryRow) -> bool:
    """A hold the workflow put on by itself because a step failed for good."""
    return row.to_status == S.ON_HOLD and (row.reason or "").startswith(FAULT_PREFIX)


def history_problems(order_no: str, rows: Sequence[HistoryRow]) -> list[str]:
    """The history is the walk the design allows: numbered 1, 2, 3... with no gap or repeat,
    starting at entry, each row leaving the status the row before it reached, by a legal
    transition. Besides the design's table, an order on hold returns to the status it left,
    and a step that fails for good may hold an order from any status that is not terminal."""
    problems: list[str] = []
    seqs = [row.seq for row in rows]
    if seqs != list(range(1, len(rows) + 1)):
        problems.append(f"{order_no}: history seq is {seqs}, not 1..{len(rows)}")
    if not rows:
        return [*problems, f"{order_no}: no history at all"]
    first = rows[0]
    if first.from_status is not None or first.to_status != S.CREATED:
        problems.append(f"{order_no}: history starts {first.from_status} -> {first.to_status}")
    held_from: str | None = None
    for before, row in pairwise(rows):
        step = f"{order_no}: seq {row.seq} {row.from_status} -> {row.to_status}"
        if row.from_status != before.to_status:
            problems.append(
                f"{step} does not leave {before.to_status}, where seq {before.seq} went"
            )
            continue
        if not _legal(row, held_from):
            problems.append(f"{step} is not a legal transition ({row.reason!r})")
        if row.to_status == S.ON_HOLD:
            held_from = row.from_status
    return problems


def _legal(row: HistoryRow, held_from: str | None) -> bool:
    source = S(row.from_status) if row.from_status else None
    target = S(row.to_status)
    if source is None or source in TERMINAL:
        return False
    if target in TRANSITIONS[source]:
        return True
    if source == S.ON_HOLD and held_from is not None and target == held_from:
        return True
    return is_fault_hold(row)


def script_path(rows: Sequence[HistoryRow]) -> list[str]:
    """The statuses an order went through, without the holds for faults and the resumes that
    ended them: what a script intended, whatever the chaos around it."""
    path: list[str] = []
    resume_due = False
    for row in rows:
        if is_fault_hold(row):
            resume_due = True
            continue
        if resume_due and row.from_status == S.ON_HOLD and row.to_status != S.CANCELLED:
            resume_due = False
            continue
        resume_due = False
        path.append(row.to_status)
    return path


def ledger_problems(
    sku: str, opening: int, moved: Mapping[str, int], on_hand: int, reserved: int
) -> list[str]:
    """Stock never goes negative, never reserves more than is on hand, and is exactly what
    the movement ledger adds up to: reserved = reserve - release - ship, on hand = opening +
    produce - ship. ``moved`` is the sum of each kind of movement of the product."""
    problems: list[str] = []
    if on_hand < 0 or reserved < 0 or reserved > on_hand:
        problems.append(f"{sku}: on hand {on_hand}, reserved {reserved}")
    rebuilt_reserved = moved.get("reserve", 0) - moved.get("release", 0) - moved.get("ship", 0)
    rebuilt_on_hand = opening + moved.get("produce", 0) - moved.get("ship", 0)
    if (rebuilt_on_hand, rebuilt_reserved) != (on_hand, reserved):
        problems.append(
            f"{sku}: the product row says on hand {on_hand}, reserved {reserved}; the ledger "
            f"{dict(moved)} from an opening {opening} says {rebuilt_on_hand}, {rebuilt_reserved}"
        )
    return problems


def duplicates(values: Iterable[object]) -> list[object]:
    """Values that occur more than once."""
    seen: set[object] = set()
    repeated: list[object] = []
    for value in values:
        if value in seen and value not in repeated:
            repeated.append(value)
        seen.add(value)
    return repeated
