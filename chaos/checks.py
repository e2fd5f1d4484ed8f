"""What must hold after a chaos run, read from PostgreSQL and Temporal once every order settled.

Each check answers its problems as sentences naming the order; an empty list is a pass. The
rows are compared with what each order's script intended (``chaos.scripts.Plan``) and with
the pure invariants of ``chaos.invariants``; "exactly once" is judged on each record's natural
key, not its surrogate id or its idempotency key, so a retried write that got a new key would
show up as a double.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import psycopg
from sqlalchemy.ext.asyncio import create_async_engine
from temporalio.client import Client, WorkflowExecutionStatus

from api.audit import verify_chain
from chaos.client import AcceptedDecision
from chaos.invariants import HistoryRow, duplicates, history_problems, ledger_problems, script_path
from chaos.scripts import Plan
from db.session import create_session_factory
from workflows import search_attributes as sa
from workflows.messages import workflow_id_for

CLOSE_WITHIN = 60.0  # seconds an order's workflow may take to close after its last transition
_TRANSITION_KINDS = ("transition", "hold", "resume")
_NOTICE_KINDS = ("reminder", "escalation", "expiry")


@dataclass
class Check:
    name: str
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


@dataclass
class RunRecord:
    """What the run knows besides the database: each order's plan, the scripts that failed,
    the decisions the API accepted, and processes that died on their own."""

    plans: dict[str, Plan]
    unplaced: list[str]
    script_failures: list[str]
    accepted: list[AcceptedDecision]
    dead_parts: list[str]
    kills_missing: list[str]


async def run_checks(database_url: str, temporal: Client, run: RunRecord) -> list[Check]:
    plans = run.plans
    url = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True) as db:
        ids = dict(db.execute("SELECT order_no, id FROM orders").fetchall())
        checks = [
            Check("every script ran to its end", [*run.unplaced, *run.script_failures]),
            Check(
                "every kill done, no process died by itself", [*run.kills_missing, *run.dead_parts]
            ),
            Check("each order entered exactly once", _entries(db, plans, ids)),
            Check("terminal status as intended", _statuses(db, plans)),
            Check("history legal, each row once, path as intended", _histories(db, plans)),
            Check("decisions exactly once, as intended", _decisions(db, plans, ids)),
            Check("every decision the API accepted recorded", _accepted(db, run.accepted)),
            Check("stock moved exactly once, ledger balanced", _stock(db, plans, ids)),
            Check("audit rows exactly once", _audit(db, plans)),
            Check("notifications exactly once", _notifications(db, plans, ids)),
        ]
    checks.append(Check("audit chain verifies", await _audit_chain(database_url)))
    checks.append(Check("workflow closed with the same status", await _workflows(temporal, plans)))
    return checks


def _entries(db: psycopg.Connection[Any], plans: dict[str, Plan], ids: dict[str, int]) -> list[str]:
    keys = [row[0] for row in db.execute("SELECT idempotency_key FROM orders").fetchall()]
    problems = [f"entry {key} is recorded more than once" for key in duplicates(keys)]
    problems += [f"{no} is not in PostgreSQL" for no in plans if no not in ids]
    problems += [f"{no} was entered by nobody's script" for no in ids if no not in plans]
    return problems


def _statuses(db: psycopg.Connection[Any], plans: dict[str, Plan]) -> list[str]:
    rows = dict(db.execute("SELECT order_no, status FROM orders").fetchall())
    return [
        f"{no} ({plan.script}) is {rows.get(no)}, not {plan.terminal}"
        for no, plan in plans.items()
        if rows.get(no) != plan.terminal
    ]


def _histories(db: psycopg.Connection[Any], plans: dict[str, Plan]) -> list[str]:
    histories: dict[str, list[HistoryRow]] = defaultdict(list)
    for order_no, *row in db.execute(
        "SELECT o.order_no, h.seq, h.from_status, h.to_status, h.actor, h.reason "
        "FROM status_history h JOIN orders o ON o.id = h.order_id ORDER BY o.order_no, h.seq, h.id"
    ).fetchall():
        histories[order_no].append(HistoryRow(*row))
    problems: list[str] = []
    for no, plan in plans.items():
        rows = histories.get(no, [])
        problems += history_problems(no, rows)
        walked = script_path(rows)
        if walked != plan.path():
            problems.append(f"{no} ({plan.script}) went {walked}, not {plan.path()}")
    return problems


def _per_order(rows: list[tuple[Any, ...]], ids: dict[str, int]) -> dict[str, list[Any]]:
    numbers = {order_id: no for no, order_id in ids.items()}
    grouped: dict[str, list[Any]] = defaultdict(list)
    for order_id, *rest in rows:
        grouped[numbers.get(order_id, f"order id {order_id}")].append(tuple(rest))
    return grouped


def _decisions(
    db: psycopg.Connection[Any], plans: dict[str, Plan], ids: dict[str, int]
) -> list[str]:
    rows = db.execute("SELECT order_id, level, decided_by, acting_role, decision FROM decisions")
    grouped = _per_order(rows.fetchall(), ids)
    problems: list[str] = []
    for no, plan in plans.items():
        made = grouped.get(no, [])
        for level, by in duplicates((level, by) for level, by, _, _ in made):  # type: ignore[misc]
            problems.append(f"{no}: {by} decided level {level} more than once")
        got = Counter((role, decision) for _, _, role, decision in made)
        if got != Counter(plan.decisions()):
            problems.append(f"{no} ({plan.script}): decisions {dict(got)}, not {plan.decisions()}")
    return problems


def _accepted(db: psycopg.Connection[Any], accepted: list[AcceptedDecision]) -> list[str]:
    recorded = set(
        db.execute(
            "SELECT o.order_no, d.decided_by, d.decision FROM decisions d "
            "JOIN orders o ON o.id = d.order_id"
        ).fetchall()
    )
    return [
        f"{a.order_no}: the API accepted {a.decision} by {a.username}, which is not recorded"
        for a in accepted
        if (a.order_no, a.username, a.decision) not in recorded
    ]


def _stock(db: psycopg.Connection[Any], plans: dict[str, Plan], ids: dict[str, int]) -> list[str]:
    rows = db.execute(
        "SELECT order_id, kind, sku, quantity FROM stock_movements WHERE order_id IS NOT NULL"
    )
    grouped = _per_order(rows.fetchall(), ids)
    problems: list[str] = []
    for no, plan in plans.items():
        moves = grouped.get(no, [])
        for kind, sku in duplicates((kind, sku) for kind, sku, _ in moves):  # type: ignore[misc]
            problems.append(f"{no}: {kind} of {sku} recorded more than once")
        moved = {kind: quantity for kind, _, quantity in moves}
        if moved != plan.stock_moves():
            problems.append(f"{no} ({plan.script}): moved {moved}, not {plan.stock_moves()}")
    for sku in sorted({plan.sku for plan in plans.values()}):
        on_hand, reserved = db.execute(
            "SELECT stock_on_hand, stock_reserved FROM products WHERE sku = %s", (sku,)
        ).fetchone() or (0, 0)
        sums = dict(
            db.execute(
                "SELECT kind, sum(quantity)::int FROM stock_movements WHERE sku = %s GROUP BY kind",
                (sku,),
            ).fetchall()
        )
        problems += ledger_problems(sku, 0, sums, on_hand, reserved)
    return problems


def _audit(db: psycopg.Connection[Any], plans: dict[str, Plan]) -> list[str]:
    rows = db.execute(
        "SELECT order_no, kind, actor, payload FROM audit_log WHERE order_no IS NOT NULL"
    )
    keys: list[tuple[Any, ...]] = []
    transitions: Counter[str] = Counter()
    decisions: Counter[str] = Counter()
    for order_no, kind, actor, payload in rows.fetchall():
        if kind in _TRANSITION_KINDS:
            keys.append((order_no, "transition", payload.get("seq")))
            transitions[order_no] += 1
        elif kind == "decision":
            keys.append((order_no, kind, actor, payload.get("level")))
            decisions[order_no] += 1
        elif kind in _NOTICE_KINDS:
            keys.append((order_no, kind, payload.get("level"), payload.get("round")))
        else:
            keys.append((order_no, kind, actor, repr(sorted(payload.items()))))
    problems = [f"audit row {key} is there more than once" for key in duplicates(keys)]
    history = Counter(
        dict(
            db.execute(
                "SELECT o.order_no, count(*) FROM status_history h "
                "JOIN orders o ON o.id = h.order_id GROUP BY o.order_no"
            ).fetchall()
        )
    )
    for no, plan in plans.items():
        if transitions[no] != history[no]:
            problems.append(f"{no}: {history[no]} history rows, {transitions[no]} audited")
        if decisions[no] != len(plan.decisions()):
            problems.append(f"{no}: {decisions[no]} decisions audited, not {len(plan.decisions())}")
    return problems


def _notifications(
    db: psycopg.Connection[Any], plans: dict[str, Plan], ids: dict[str, int]
) -> list[str]:
    rows = db.execute(
        "SELECT order_id, event, channel, coalesce(recipient, target, ''), subject "
        "FROM notifications WHERE order_id IS NOT NULL"
    )
    grouped = _per_order(rows.fetchall(), ids)
    problems: list[str] = []
    for no, plan in plans.items():
        notes = grouped.get(no, [])
        for event, channel, to, _ in duplicates(notes):  # type: ignore[misc]
            problems.append(f"{no}: {event} on {channel} to {to} is there more than once")
        missing = _expected_events(plan) - {event for event, *_ in notes}
        if missing:
            problems.append(f"{no} ({plan.script}): no {sorted(missing)} notification")
    return problems


def _expected_events(plan: Plan) -> set[str]:
    path = plan.path()
    expected = {"approval_requested"}
    for status, event in (("APPROVED", "approved"), ("REJECTED", "rejected")):
        if status in path:
            expected.add(event)
    if plan.terminal == "COMPLETED":
        expected |= {"shipped", "delivered", "completed"}
    return expected


async def _audit_chain(database_url: str) -> list[str]:
    engine = create_async_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            verdict = await verify_chain(session)
    finally:
        await engine.dispose()
    return [] if verdict.ok else [verdict.detail]


async def _workflows(temporal: Client, plans: dict[str, Plan]) -> list[str]:
    async def closed(no: str, plan: Plan) -> str | None:
        handle = temporal.get_workflow_handle(workflow_id_for(no))
        deadline = asyncio.get_running_loop().time() + CLOSE_WITHIN
        while True:
            described = await handle.describe()
            status = described.typed_search_attributes.get(sa.ORDER_STATUS)
            running = described.status == WorkflowExecutionStatus.RUNNING
            if not running:
                break
            if asyncio.get_running_loop().time() > deadline:
                return f"{no}: the workflow still runs ({status}) {CLOSE_WITHIN:g} s later"
            await asyncio.sleep(0.5)
        if described.status != WorkflowExecutionStatus.COMPLETED or status != plan.terminal:
            state = described.status.name if described.status else "?"
            return (
                f"{no}: the workflow closed {state} with OrderStatus {status}, not {plan.terminal}"
            )
        return None

    limit = asyncio.Semaphore(16)

    async def one(no: str, plan: Plan) -> str | None:
        async with limit:
            return await closed(no, plan)

    found = await asyncio.gather(*(one(no, plan) for no, plan in plans.items()))
    return [problem for problem in found if problem is not None]
