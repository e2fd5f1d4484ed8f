"""The audit log: every decision, transition and hold is appended and hash-chained, the
database refuses to change it, and verification names the first row altered behind its back.

Other tests append to the same log while these run, so a test that tampers with a row puts it
back before it ends, and checks that the chain is whole again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Executable, delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from api.audit import verify_chain
from db.audit import append_audit, entry_hash
from db.models import AuditEntry
from tests.factories import World
from tests.test_auth import assert_error

AUDIT = "/api/v1/audit"


async def audit_trail(world: World, order_no: str, **params: Any) -> list[dict[str, Any]]:
    """The order's audit rows as ops reads them, oldest first."""
    response = await world.api.get(
        AUDIT, params={"order_no": order_no, "limit": 200, **params}, headers=world["ops"].headers
    )
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["data"]
    return rows[::-1]


async def verify(world: World) -> dict[str, Any]:
    response = await world.api.get(f"{AUDIT}/verify", headers=world["ops"].headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@asynccontextmanager
async def as_dba(world: World) -> AsyncIterator[AsyncSession]:
    """A transaction with the append-only trigger switched off, as someone with database
    access could do; other sessions never see it off, as DDL commits with the transaction."""
    async with world.sessions.begin() as session:
        await session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        yield session
        await session.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))


async def reviewed_order(world: World) -> tuple[str, list[dict[str, Any]]]:
    """An order under review and its audit rows: entered, then put under review."""
    order_no = await world.new_order()
    await world.wait_for(order_no, "UNDER_REVIEW")
    rows = await audit_trail(world, order_no)
    assert [(row["payload"]["from"], row["payload"]["to"]) for row in rows] == [
        (None, "CREATED"),
        ("CREATED", "UNDER_REVIEW"),
    ]
    return order_no, rows


async def test_an_orders_life_is_in_the_audit_log_and_the_chain_holds(world: World) -> None:
    order_no = await world.new_order()
    await world.approve_levels(order_no, ["sup"])
    await world.wait_for(order_no, "IN_PRODUCTION")
    for action, as_, reason in [
        ("hold", "ops", "quality check"),
        ("resume", "ops", "quality cleared"),
        ("cancel", "sales", "customer withdrew"),
    ]:
        response = await world.act(order_no, action, as_=as_, json_body={"reason": reason})
        assert response.status_code == 200, response.text
    history = (await world.order(order_no))["history"]
    rows = await audit_trail(world, order_no)

    moves = [row for row in rows if row["kind"] != "decision"]
    assert [
        (row["payload"]["from"], row["payload"]["to"], row["actor"], row["payload"]["reason"])
        for row in moves
    ] == [(h["from_status"], h["to_status"], h["actor"], h["reason"]) for h in history]
    assert [row["kind"] for row in moves[-3:]] == ["hold", "resume", "transition"]
    hold, resume, cancel = moves[-3:]
    assert (hold["actor"], hold["payload"]["to"]) == (world["ops"].username, "ON_HOLD")
    assert (resume["actor"], resume["payload"]["to"]) == (world["ops"].username, "IN_PRODUCTION")
    assert (cancel["actor"], cancel["payload"]["to"]) == (world["sales"].username, "CANCELLED")
    assert moves[0]["actor"] == world["sales"].username

    decisions = [row for row in rows if row["kind"] == "decision"]
    assert [(row["actor"], row["payload"]) for row in decisions] == [
        (
            world["sup"].username,
            {
                "level": 1,
                "decision": "approve",
                "comment": None,
                "acting_role": "supervisor",
                "on_behalf_of": None,
            },
        )
    ]
    # Anyone holding the rows can recompute their hashes.
    for row in rows:
        at = datetime.fromisoformat(row["at"])
        assert row["hash"] == entry_hash(
            row["prev_hash"], at, row["actor"], row["kind"], row["order_no"], row["payload"]
        )

    result = await verify(world)
    assert result["ok"] is True, result
    assert result["first_bad_id"] is None
    assert result["rows_checked"] >= len(rows)


async def test_the_log_filters_by_kind_and_pages_back_in_time(world: World) -> None:
    order_no = await world.new_order()
    await world.wait_for(order_no, "UNDER_REVIEW")
    held = await world.act(order_no, "hold", as_="ops", json_body={"reason": "credit check"})
    assert held.status_code == 200, held.text
    everything = await audit_trail(world, order_no)
    holds = await audit_trail(world, order_no, kind="hold")
    assert [(row["kind"], row["payload"]["reason"]) for row in holds] == [("hold", "credit check")]

    paged: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"order_no": order_no, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        response = await world.api.get(AUDIT, params=params, headers=world["ops"].headers)
        assert response.status_code == 200, response.text
        paged += response.json()["data"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert [row["id"] for row in paged] == [row["id"] for row in everything[::-1]]
    bad = await world.api.get(AUDIT, params={"cursor": "%%%"}, headers=world["ops"].headers)
    assert_error(bad, 422, "ValidationError")


async def test_a_refused_request_appends_nothing(world: World) -> None:
    order_no, before = await reviewed_order(world)
    assert (await world.decide(order_no, as_="sales")).status_code == 403
    assert (await world.decide(order_no, as_="mgr")).status_code == 403
    assert (await world.decide(order_no, as_="sup", decision="reject")).status_code == 422
    assert (
        await world.act(order_no, "hold", as_="sales", json_body={"reason": "x"})
    ).status_code == 403
    assert await audit_trail(world, order_no) == before


async def test_payloads_keep_their_hash_through_postgresql(world: World) -> None:
    """What delegations and policy changes log: dates, amounts, durations, nested rules."""
    payload = {
        "starts_at": datetime(2026, 12, 1, 8, 30, 0, 123456, tzinfo=UTC),
        "limit": Decimal("99999.99"),
        "remind_every": 14400.0,
        "huge": 1e16,
        "share": 0.1,
        "rules": [{"name": "大客户", "levels": [{"role": "manager", "quorum": 2}]}],
        "note": None,
    }
    at = datetime.now(UTC)
    async with world.sessions.begin() as session:
        appended = await append_audit(
            session,
            kind="policy",
            actor=world["ops"].username,
            order_no=None,
            payload=payload,
            at=at,
        )
    async with world.sessions() as session:
        stored = await session.get_one(AuditEntry, appended)
    assert stored.payload["limit"] == "99999.99"
    assert stored.payload["starts_at"] == "2026-12-01T08:30:00.123456+00:00"
    assert stored.hash == entry_hash(
        stored.prev_hash, stored.at, stored.actor, stored.kind, stored.order_no, stored.payload
    )
    assert (await verify(world))["ok"] is True


async def test_orders_decided_at_once_still_form_one_chain(world: World) -> None:
    orders = await asyncio.gather(*(world.new_order() for _ in range(5)))
    await asyncio.gather(*(world.approve_levels(order_no, ["sup"]) for order_no in orders))
    await asyncio.gather(*(world.wait_for(order_no, "IN_PRODUCTION") for order_no in orders))
    for order_no in orders:
        history = (await world.order(order_no))["history"]
        rows = await audit_trail(world, order_no)
        assert [row["actor"] for row in rows if row["kind"] == "decision"] == [
            world["sup"].username
        ]
        assert [row["payload"]["to"] for row in rows if row["kind"] == "transition"] == [
            h["to_status"] for h in history
        ]
    async with world.sessions() as session:
        prev_hashes = list(await session.scalars(select(AuditEntry.prev_hash)))
    assert len(prev_hashes) == len(set(prev_hashes)), "two rows follow the same row"
    result = await verify(world)
    assert result["ok"] is True, result


async def test_an_altered_row_is_named(world: World) -> None:
    _, rows = await reviewed_order(world)
    target = rows[0]
    async with as_dba(world) as session:
        await session.execute(
            update(AuditEntry)
            .where(AuditEntry.id == target["id"])
            .values(payload={**target["payload"], "reason": "entered by someone else"})
        )
    try:
        result = await verify(world)
        assert result["ok"] is False, result
        assert result["first_bad_id"] == target["id"]
        assert str(target["id"]) in result["detail"]
        # Read in small batches, the chain breaks at the same row.
        async with world.sessions() as session:
            batched = await verify_chain(session, batch_size=2)
        assert (batched.ok, batched.first_bad_id) == (False, target["id"])
    finally:
        async with as_dba(world) as session:
            await session.execute(
                update(AuditEntry)
                .where(AuditEntry.id == target["id"])
                .values(payload=target["payload"])
            )
    assert (await verify(world))["ok"] is True


async def test_a_deleted_row_is_named_by_the_row_after_it(world: World) -> None:
    _, rows = await reviewed_order(world)
    async with world.sessions() as session:
        victim = await session.get_one(AuditEntry, rows[0]["id"])
        saved = {column.key: getattr(victim, column.key) for column in AuditEntry.__table__.columns}
        following = await session.scalar(
            select(AuditEntry.id)
            .where(AuditEntry.id > saved["id"])
            .order_by(AuditEntry.id)
            .limit(1)
        )
    async with as_dba(world) as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.id == saved["id"]))
    try:
        result = await verify(world)
        assert result["ok"] is False, result
        assert result["first_bad_id"] == following
    finally:
        # Inserting is what the log allows, so putting the row back needs no trigger off.
        async with world.sessions.begin() as session:
            await session.execute(insert(AuditEntry).values(**saved))
    assert (await verify(world))["ok"] is True


async def test_the_database_refuses_to_change_the_log(world: World) -> None:
    order_no, rows = await reviewed_order(world)
    row_id = rows[0]["id"]
    refusals: list[Executable] = [
        update(AuditEntry).where(AuditEntry.id == row_id).values(actor="someone-else"),
        delete(AuditEntry).where(AuditEntry.id == row_id),
        text("TRUNCATE audit_log"),
    ]
    for statement in refusals:
        async with world.sessions() as session:
            with pytest.raises(DBAPIError, match="audit_log is append-only"):
                await session.execute(statement)
            await session.rollback()
    assert await audit_trail(world, order_no) == rows


async def test_only_ops_reads_and_verifies_the_log(world: World) -> None:
    for path in (AUDIT, f"{AUDIT}/verify"):
        for who in ("sales", "customer", "sup"):
            response = await world.api.get(path, headers=world[who].headers)
            assert_error(response, 403, "Forbidden")
        assert_error(await world.api.get(path), 401, "Unauthorized")
