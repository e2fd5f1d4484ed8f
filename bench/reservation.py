"""How fast stock is reserved when many approved orders compete for the same products.

``python -m bench.reservation`` runs ``StockActivities.reserve_stock`` directly (no Temporal
worker) for N orders at once, C at a time, in a database created for the run and dropped at
the end: on the server named by ``DATABASE_URL`` when it is set, otherwise on an embedded
PostgreSQL in ``.data/postgres-bench``. Each scenario reports throughput, latency, how many
units were reserved against how many could be, and any unit sold twice (there must be none).

Every call locks its product rows, so orders for one product queue behind each other: the
figures show what that queue costs, not the capacity of the whole order flow.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from activities.stock import StockActivities
from db.migrate import upgrade_to_head
from db.models import Customer, Order, OrderLine, Product, StockMovement
from db.session import create_session_factory
from devstack.paths import setting
from devstack.postgres import PostgresHandle, ensure_postgres

PRICE = Decimal("100.00")


@dataclass
class Scenario:
    """``orders`` orders of ``lines_per_order`` lines (quantities drawn from ``quantity``)
    over ``products`` products holding ``stock`` units each, ``concurrency`` at a time."""

    name: str
    stock: int
    orders: int
    concurrency: int
    quantity: tuple[int, int] = (1, 1)
    products: int = 1
    lines_per_order: tuple[int, int] = (1, 1)


SCENARIOS = [
    Scenario("30 orders for 10 units", stock=10, orders=30, concurrency=30),
    Scenario("2000 orders for 1000 units", stock=1000, orders=2000, concurrency=50),
    Scenario("partial lines, q=3", stock=100, orders=200, concurrency=30, quantity=(3, 3)),
    Scenario(
        "mix: 5 products, 1-3 lines, q=1-5",
        stock=300,
        orders=1000,
        concurrency=50,
        quantity=(1, 5),
        products=5,
        lines_per_order=(1, 3),
    ),
]


@dataclass
class Outcome:
    scenario: Scenario
    seconds: float
    latencies: list[float]
    errors: Counter[str] = field(default_factory=Counter)
    reserved: int = 0
    expected: int = 0
    oversold: int = 0
    on_hand: int = 0
    stock_reserved: int = 0
    ledger_mismatch: int = 0


# ---------------------------------------------------------------------------- database


def _libpq(url: URL) -> str:
    """The SQLAlchemy URL as psycopg connects to it."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def create_bench_database() -> tuple[str, str, PostgresHandle | None]:
    """A fresh database: (its URL, the server's admin URL, the embedded server if started)."""
    configured = setting("DATABASE_URL")
    handle = None
    if configured:
        server_url = configured
    else:
        handle = ensure_postgres(".data/postgres-bench", "postgres", use_env=False)
        server_url = handle.url
    database = f"orderflow_bench_{os.getpid()}"
    admin = _libpq(make_url(server_url).set(database="postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {database}")
    url = make_url(server_url).set(database=database).render_as_string(hide_password=False)
    upgrade_to_head(url)
    return url, admin, handle


def drop_bench_database(url: str, admin: str) -> None:
    database = make_url(url).database
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


# ---------------------------------------------------------------------------- one scenario


async def prepare(
    sessions: async_sessionmaker[AsyncSession], scenario: Scenario, tag: str, rng: random.Random
) -> tuple[list[str], list[str]]:
    """Products and entered orders, written the way order entry writes them; (skus, order_nos)."""
    skus = [f"BENCH-{tag}-P{i}" for i in range(scenario.products)]
    order_nos = [f"BENCH-{tag}-{i:06d}" for i in range(scenario.orders)]
    async with sessions.begin() as session:
        customer = Customer(
            code=f"BENCH-{tag}", name="Bench customer", credit_limit=Decimal("1e9"), active=True
        )
        session.add(customer)
        session.add_all(
            Product(
                sku=sku,
                name=f"Bench product {sku}",
                unit_price=PRICE,
                stock_on_hand=scenario.stock,
                active=True,
            )
            for sku in skus
        )
        await session.flush()
        for order_no in order_nos:
            # Lines name their products in random order, so lock ordering is exercised.
            count = min(rng.randint(*scenario.lines_per_order), len(skus))
            lines = [
                OrderLine(
                    line_no=i,
                    sku=sku,
                    quantity=(qty := rng.randint(*scenario.quantity)),
                    unit_price=PRICE,
                    amount=PRICE * qty,
                )
                for i, sku in enumerate(rng.sample(skus, count), start=1)
            ]
            session.add(
                Order(
                    order_no=order_no,
                    customer_id=customer.id,
                    status="APPROVED",
                    currency="CNY",
                    created_by="bench",
                    rejection_reasons=[],
                    total=sum((line.amount or PRICE for line in lines), Decimal(0)),
                    lines=lines,
                )
            )
    return skus, order_nos


async def reserve_all(
    stock: StockActivities, order_nos: list[str], concurrency: int
) -> tuple[float, list[float], Counter[str]]:
    """Reserve every order, ``concurrency`` at once; (wall seconds, latencies, errors)."""
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    errors: Counter[str] = Counter()

    async def one(order_no: str) -> None:
        async with gate:
            started = time.perf_counter()
            try:
                await stock.reserve_stock(order_no)
            except DBAPIError as exc:
                errors[type(exc.orig).__name__] += 1
            except Exception as exc:
                errors[type(exc).__name__] += 1
            else:
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(one(order_no) for order_no in order_nos))
    return time.perf_counter() - started, latencies, errors


async def _per_sku(session: AsyncSession, column: Any, *where: Any) -> dict[str, int]:
    """``sum(column)`` per SKU of the rows of ``column``'s table that match ``where``."""
    sku = column.class_.sku
    rows = await session.execute(select(sku, func.sum(column)).where(*where).group_by(sku))
    return {name: int(total or 0) for name, total in rows}


async def audit(
    sessions: async_sessionmaker[AsyncSession], skus: list[str], outcome: Outcome
) -> None:
    """Compare what the orders hold with the products' counters and the movement ledger."""
    async with sessions() as session:
        demand = await _per_sku(session, OrderLine.quantity, OrderLine.sku.in_(skus))
        held = await _per_sku(session, OrderLine.reserved_qty, OrderLine.sku.in_(skus))
        ledger = await _per_sku(
            session,
            StockMovement.quantity,
            StockMovement.sku.in_(skus),
            StockMovement.kind == "reserve",
        )
        products = list(await session.scalars(select(Product).where(Product.sku.in_(skus))))
    for product in products:
        reserved = held.get(product.sku, 0)
        outcome.reserved += reserved
        outcome.expected += min(outcome.scenario.stock, demand.get(product.sku, 0))
        outcome.oversold += max(0, reserved - outcome.scenario.stock)
        outcome.on_hand += product.stock_on_hand
        outcome.stock_reserved += product.stock_reserved
        outcome.ledger_mismatch += abs(ledger.get(product.sku, 0) - product.stock_reserved)


async def warm_pool(engine: AsyncEngine, size: int) -> None:
    """Open every pooled connection up front, so connecting is not timed as reserving."""
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(size):
            connection = await stack.enter_async_context(engine.connect())
            await connection.execute(select(1))


async def run_scenario(url: str, scenario: Scenario, tag: str, seed: int) -> Outcome:
    # One connection per concurrent call, so the figures measure lock waits, not pool waits.
    engine = create_async_engine(
        url, pool_pre_ping=True, pool_size=scenario.concurrency, max_overflow=0
    )
    try:
        sessions = create_session_factory(engine)
        skus, order_nos = await prepare(sessions, scenario, tag, random.Random(seed))
        await warm_pool(engine, scenario.concurrency)
        seconds, latencies, errors = await reserve_all(
            StockActivities(sessions), order_nos, scenario.concurrency
        )
        outcome = Outcome(scenario, seconds, latencies, errors)
        await audit(sessions, skus, outcome)
        return outcome
    finally:
        await engine.dispose()


# ---------------------------------------------------------------------------- report


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def report(outcome: Outcome) -> str:
    s = outcome.scenario
    lat = sorted(outcome.latencies)
    p50 = statistics.median(lat) if lat else 0.0
    p95 = lat[min(len(lat) - 1, int(len(lat) * 0.95))] if lat else 0.0
    errors = ", ".join(f"{n} × {kind}" for kind, n in outcome.errors.items()) or "none"
    quantity = (
        s.quantity[0] if s.quantity[0] == s.quantity[1] else f"{s.quantity[0]}-{s.quantity[1]}"
    )
    return "\n".join(
        [
            f"== {s.name}",
            f"   products {s.products} × stock {s.stock}, orders {s.orders}, "
            f"lines/order {s.lines_per_order[0]}-{s.lines_per_order[1]}, q {quantity}, "
            f"concurrency {s.concurrency}",
            f"   total {outcome.seconds:.2f} s, {len(lat) / outcome.seconds:.0f} orders/s",
            f"   latency p50 {_ms(p50)}, p95 {_ms(p95)}, max {_ms(lat[-1] if lat else 0.0)}",
            f"   units reserved {outcome.reserved} / expected {outcome.expected}, "
            f"oversold {outcome.oversold}",
            f"   final on_hand {outcome.on_hand}, reserved {outcome.stock_reserved}, "
            f"ledger mismatch {outcome.ledger_mismatch}",
            f"   failed calls: {errors}",
        ]
    )


async def main(names: list[str] | None, seed: int, orders: int | None) -> None:
    chosen = [s for s in SCENARIOS if not names or any(n in s.name for n in names)]
    url, admin, handle = create_bench_database()
    try:
        print(f"PostgreSQL: {make_url(url).render_as_string(hide_password=True)}", flush=True)
        for i, scenario in enumerate(chosen, start=1):
            if orders is not None:
                scenario.orders = orders
            outcome = await run_scenario(url, scenario, f"{os.getpid()}-{i}", seed)
            print(report(outcome), flush=True)
    finally:
        drop_bench_database(url, admin)
        if handle is not None:
            handle.stop()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.reservation", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--scenario",
        action="append",
        help="run only scenarios whose name contains this (repeatable); "
        f"known: {'; '.join(s.name for s in SCENARIOS)}",
    )
    parser.add_argument("--orders", type=int, help="override every scenario's order count")
    parser.add_argument("--seed", type=int, default=7, help="seed of the order mix")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse_args()
    asyncio.run(main(args.scenario, args.seed, args.orders))
