"""PostgreSQL made to misbehave on purpose, with a trigger: a write it refuses, which no request
can cause past the API's own checks. It ends with the block that set it up."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text

from tests.factories import World


@asynccontextmanager
async def trigger(
    world: World, table: str, when: str, body: str, on: str = "INSERT OR UPDATE"
) -> AsyncIterator[None]:
    """``BEFORE <on> ON table FOR EACH ROW WHEN (when)`` runs ``body`` (plpgsql)."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    async with world.sessions.begin() as session:
        await session.execute(
            text(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"{body} RETURN NEW; END $$"
            )
        )
        await session.execute(
            text(
                f"CREATE TRIGGER {name} BEFORE {on} ON {table} FOR EACH ROW "
                f"WHEN ({when}) EXECUTE FUNCTION {name}()"
            )
        )
    try:
        yield
    finally:
        async with world.sessions.begin() as session:
            await session.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))
            await session.execute(text(f"DROP FUNCTION IF EXISTS {name}()"))


@asynccontextmanager
async def refused(
    world: World, table: str, when: str, on: str = "INSERT OR UPDATE"
) -> AsyncIterator[None]:
    """The write fails as a value out of its column's range does (a data error)."""
    body = "RAISE EXCEPTION 'numeric field overflow' USING ERRCODE = '22003';"
    async with trigger(world, table, when, body, on):
        yield
