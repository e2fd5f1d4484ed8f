"""A year of order history for the analytics bench, drawn at random (seeded) and written by
COPY: orders with their status history (each stay's ``left_at`` included), review levels with
their decisions, reminders, escalations and expiries, work orders on a few lines, shipments
with delivery times against the requested day, and some alerts.

Each order walks the lifecycle as the workflow would: validation, one to three review levels
(by amount), sometimes a hold or a rejection, production on a line when stock was short,
dispatch, delivery and receipt; a transition that would fall after now has not happened yet,
so the newest orders are still open, as in a live system.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg

HOUR = 3600.0
DAY = 24 * HOUR
LINES = ("LINE-1", "LINE-2", "LINE-3", "LINE-4")
# A line's mean production lead time in hours: one line is the slow one.
LINE_HOURS = {"LINE-1": 20.0, "LINE-2": 30.0, "LINE-3": 60.0, "LINE-4": 24.0}
ROLES = ("supervisor", "manager", "director")
# Mean hours a level waits for its decision.
LEVEL_HOURS = {"supervisor": 3.0, "manager": 6.0, "director": 12.0}
ESCALATES_TO = {"supervisor": "manager", "manager": "director", "director": "ops"}
REMIND_EVERY = 4 * HOUR
ESCALATE_AFTER = 24 * HOUR


@dataclass
class Rows:
    orders: list[tuple[Any, ...]] = field(default_factory=list)
    history: list[tuple[Any, ...]] = field(default_factory=list)
    levels: list[tuple[Any, ...]] = field(default_factory=list)
    decisions: list[tuple[Any, ...]] = field(default_factory=list)
    notices: list[tuple[Any, ...]] = field(default_factory=list)
    work_orders: list[tuple[Any, ...]] = field(default_factory=list)
    shipments: list[tuple[Any, ...]] = field(default_factory=list)
    alerts: list[tuple[Any, ...]] = field(default_factory=list)


class OrderWalk:
    """One order's path, transition by transition, stopping at ``now``."""

    def __init__(self, rows: Rows, order_id: int, start: datetime, now: datetime) -> None:
        self.rows, self.id, self.now = rows, order_id, now
        self.at = start
        self.status: str | None = None
        self.seq = 0
        self.open = True

    def move(self, to_status: str, after_seconds: float, reason: str | None = None) -> bool:
        """Go to ``to_status`` after a stay; False (the order stays where it is) past now."""
        when = self.at + timedelta(seconds=after_seconds) if self.seq else self.at
        if when > self.now:
            self.open = False
            return False
        if self.seq:
            self.rows.history[-1] = (*self.rows.history[-1][:-1], when)
        self.seq += 1
        self.rows.history.append(
            (self.id, self.seq, self.status, to_status, "system", reason, when, None)
        )
        self.status, self.at = to_status, when
        return True


def generate(orders: int, customers: list[int], now: datetime, seed: int) -> Rows:
    rng = random.Random(seed)
    rows = Rows()
    # Orders numbered in the order they were entered, as the sequence numbers them.
    ages = sorted((rng.random() * 365 * DAY for _ in range(orders)), reverse=True)
    for order_id, age in enumerate(ages, start=1):
        created = now - timedelta(seconds=age)
        _one_order(rng, rows, order_id, rng.choice(customers), created, now)
    # A live system writes each row when it happens: the tables hold them in time order.
    rows.history.sort(key=lambda row: row[6])
    rows.levels.sort(key=lambda row: (row[6] is None, row[6] or now))
    rows.decisions.sort(key=lambda row: row[6])
    rows.notices.sort(key=lambda row: row[6])
    rows.work_orders.sort(key=lambda row: row[4])
    rows.shipments.sort(key=lambda row: row[3])
    return rows


def _one_order(
    rng: random.Random, rows: Rows, order_id: int, customer: int, created: datetime, now: datetime
) -> None:
    total = Decimal(round(rng.lognormvariate(8.6, 1.1), 2)).quantize(Decimal("0.01"))
    levels = 1 if total < 10_000 else 2 if total < 100_000 else 3
    requested = (created + timedelta(days=rng.randint(5, 20))).date()
    requested_date = requested if rng.random() < 0.85 else None
    walk = OrderWalk(rows, order_id, created, now)
    walk.move("CREATED", 0, "entered")
    _walk(rng, rows, walk, levels, total)
    held_from = rows.history[-1][2] if walk.status == "ON_HOLD" else None
    rows.orders.append(
        (
            order_id,
            f"SO-{created.year}-{order_id:06d}",
            customer,
            walk.status,
            held_from,
            total,
            "sales1",
            created,
            walk.at,
            requested_date,
            "CNY",
            "[]",
        )
    )


def _walk(rng: random.Random, rows: Rows, walk: OrderWalk, levels: int, total: Decimal) -> None:
    if not walk.move("UNDER_REVIEW", rng.uniform(2, 60)):
        return
    if rng.random() < 0.02:
        walk.move("REJECTED", 0, "validation: credit limit exceeded")
        return
    if not _review(rng, rows, walk, levels):
        return
    if rng.random() < 0.04 and walk.move("CANCELLED", rng.uniform(60, 4 * HOUR), "customer"):
        return
    approved_at = walk.at
    if rng.random() < 0.6:
        line = rng.choice(LINES)
        if not walk.move("IN_PRODUCTION", rng.uniform(30, 600)):
            return
        lead = rng.expovariate(1 / (LINE_HOURS[line] * HOUR))
        finished = walk.move("AWAITING_SHIPMENT", lead)
        rows.work_orders.append(
            (
                walk.id,
                f"WO-{walk.id:07d}",
                line,
                "completed" if finished else "open",
                approved_at,
                walk.at if finished else None,
            )
        )
        if not finished:
            if rng.random() < 0.01:
                rows.alerts.append(
                    (f"overdue:WO-{walk.id:07d}", "work_order_overdue", walk.id, "late")
                )
            return
    elif not walk.move("AWAITING_SHIPMENT", rng.uniform(60, 3600)):
        return
    booked = walk.at
    if rng.random() < 0.01 and walk.move("ON_HOLD", rng.uniform(HOUR, 6 * HOUR), "system fault"):
        rows.alerts.append((f"fault:{walk.id}", "order_fault", walk.id, "system fault"))
        if not walk.move("AWAITING_SHIPMENT", rng.uniform(HOUR, 2 * DAY), "resumed"):
            return
    if not walk.move("SHIPPED", rng.uniform(2 * HOUR, 2 * DAY)):
        rows.shipments.append((walk.id, f"TRK{walk.id:09d}", "booked", booked, None, None, "b"))
        return
    shipped = walk.at
    if not walk.move("DELIVERED", rng.lognormvariate(11.8, 0.5)):
        rows.shipments.append(
            (walk.id, f"TRK{walk.id:09d}", "in_transit", booked, shipped, None, "b")
        )
        return
    rows.shipments.append(
        (walk.id, f"TRK{walk.id:09d}", "delivered", booked, shipped, walk.at, "b")
    )
    confirm = rng.uniform(HOUR, 3 * DAY) if rng.random() < 0.7 else 7 * DAY
    walk.move("COMPLETED", confirm)


def _review(rng: random.Random, rows: Rows, walk: OrderWalk, levels: int) -> bool:
    """The review levels in turn; True when every one approved before now."""
    opened = walk.at
    for level in range(1, levels + 1):
        role = ROLES[level - 1]
        wait = rng.expovariate(1 / (LEVEL_HOURS[role] * HOUR))
        escalated = wait > ESCALATE_AFTER
        to = ESCALATES_TO[role] if escalated else None
        for round_no in range(1, min(int(wait // REMIND_EVERY), 3) + 1):
            when = opened + timedelta(seconds=round_no * REMIND_EVERY)
            if when <= walk.now:
                for n in (1, 2):
                    rows.notices.append(
                        (walk.id, level, "reminder", round_no, role, f"{role}{n}", when)
                    )
        if escalated:
            when = opened + timedelta(seconds=ESCALATE_AFTER)
            if when <= walk.now:
                rows.notices.append((walk.id, level, "escalation", 1, role, "escalated1", when))
        decided = opened + timedelta(seconds=wait)
        rejected = rng.random() < 0.05
        if decided > walk.now:
            rows.levels.append((walk.id, level, role, "pending", escalated, to, opened, None))
            for later in range(level + 1, levels + 1):
                rows.levels.append(
                    (walk.id, later, ROLES[later - 1], "waiting", False, None, None, None)
                )
            walk.open = False
            return False
        verdict = "rejected" if rejected else "approved"
        rows.levels.append((walk.id, level, role, verdict, escalated, to, opened, decided))
        approver = f"{ESCALATES_TO[role] if escalated else role}{rng.randint(1, 6)}"
        delegate_for = f"{role}{rng.randint(7, 9)}" if rng.random() < 0.05 else None
        verb = "reject" if rejected else "approve"
        rows.decisions.append((walk.id, level, approver, delegate_for, role, verb, decided))
        in_review = (decided - walk.at).total_seconds()
        if rejected:
            walk.move("REJECTED", in_review, f"rejected at level {level}")
            return False
        if level == levels:
            return walk.move("APPROVED", in_review)
        opened = decided
    return False


def copy_rows(conn: psycopg.Connection[Any], rows: Rows) -> None:
    """Every generated row into its table, by COPY."""
    tables: list[tuple[str, str, list[tuple[Any, ...]]]] = [
        (
            "orders",
            "id, order_no, customer_id, status, held_from, total, created_by, created_at, "
            "updated_at, requested_delivery_date, currency, rejection_reasons",
            rows.orders,
        ),
        (
            "status_history",
            "order_id, seq, from_status, to_status, actor, reason, at, left_at",
            rows.history,
        ),
        (
            "review_levels",
            "order_id, level, role, status, escalated, escalated_to, opened_at, decided_at",
            rows.levels,
        ),
        (
            "decisions",
            "order_id, level, decided_by, on_behalf_of, acting_role, decision, at",
            rows.decisions,
        ),
        ("review_notices", "order_id, level, kind, round, role, recipient, at", rows.notices),
        (
            "work_orders",
            "order_id, work_order_no, line, status, created_at, finished_at",
            rows.work_orders,
        ),
        (
            "shipments",
            "order_id, tracking_no, status, booked_at, shipped_at, delivered_at, carrier",
            rows.shipments,
        ),
        ("alerts", "key, kind, order_id, message", rows.alerts),
    ]
    with conn.cursor() as cur:
        for table, columns, data in tables:
            with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in data:
                    copy.write_row(row)
        cur.execute("SELECT setval('orders_id_seq', (SELECT max(id) FROM orders))")


def now_utc() -> datetime:
    return datetime.now(UTC)
