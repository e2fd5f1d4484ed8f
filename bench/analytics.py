"""How fast the analytics answer over a year of history of 100,000 orders.

``python -m bench.analytics`` creates a database of its own (on the server named by
``DATABASE_URL`` when it is set, otherwise on an embedded PostgreSQL in
``.data/postgres-bench``), loads the orders by COPY (see ``bench/analytics_data.py``), then
calls every analytics endpoint through the real API app (in-process, over an ASGI transport,
signed in as ops) many times with its default period (the last 30 days) and with the whole
year, and prints p50 and p99 latency per endpoint and period. The database is dropped at the
end. The target is p99 ≤ 50 ms for each.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import timedelta
from typing import Any

import httpx
import psycopg
from sqlalchemy.engine import make_url

from api.app import create_app
from api.security import issue_token
from bench.analytics_data import copy_rows, generate, now_utc
from bench.reservation import _libpq, create_bench_database, drop_bench_database
from config import Settings
from db.session import create_engine, create_session_factory

ENDPOINTS = ("stage-durations", "throughput", "approvals", "delivery", "overview")
TARGET_MS = 50.0


def load(url: str, orders: int, seed: int) -> dict[str, float]:
    """The customers, an ops user and ``orders`` orders with their history; row counts."""
    started = time.perf_counter()
    now = now_utc()
    with psycopg.connect(_libpq(make_url(url))) as conn:
        customers = [
            conn.execute(
                "INSERT INTO customers (code, name, credit_limit, active) "
                "VALUES (%s, %s, 100000000, true) RETURNING id",
                (f"C{n:03d}", f"Customer {n}"),
            ).fetchone()[0]  # type: ignore[index]
            for n in range(1, 21)
        ]
        conn.execute(
            "INSERT INTO users (username, full_name, password_hash, roles, active) "
            "VALUES ('bench-ops', 'Bench ops', 'x', ARRAY['ops'], true)"
        )
        rows = generate(orders, customers, now, seed)
        copy_rows(conn, rows)
        conn.commit()
    with psycopg.connect(_libpq(make_url(url)), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return {
        "orders": len(rows.orders),
        "transitions": len(rows.history),
        "review levels": len(rows.levels),
        "decisions": len(rows.decisions),
        "notices": len(rows.notices),
        "work orders": len(rows.work_orders),
        "shipments": len(rows.shipments),
        "seconds": time.perf_counter() - started,
    }


async def measure(url: str, calls: int, customer_id: int) -> list[tuple[str, str, float, float]]:
    """(endpoint, period, p50 ms, p99 ms) of ``calls`` calls each, after a few warm-up calls."""
    settings = Settings(database_url=url)
    app = create_app(settings, temporal=None)
    engine = create_engine(settings.sqlalchemy_url, pool_size=5, max_overflow=0)
    # The analytics need PostgreSQL only: the app's state is set here instead of its lifespan,
    # which would connect to Temporal.
    app.state.settings = settings
    app.state.sessions = create_session_factory(engine)
    token = issue_token("bench-ops", settings.jwt_secret, settings.access_token_ttl)
    headers = {"Authorization": f"Bearer {token}"}
    now = now_utc()
    year = {"from": (now - timedelta(days=365)).isoformat(), "to": now.isoformat()}
    cases: list[tuple[str, str, dict[str, Any]]] = []
    for name in ENDPOINTS:
        if name == "overview":
            cases.append((name, "now", {}))
            continue
        cases.append((name, "default (30 days)", {}))
        cases.append((name, "1 year", year))
        if name == "stage-durations":
            cases.append((name, "1 year, one customer", {**year, "customer_id": customer_id}))
        if name == "throughput":
            cases.append((name, "1 year, weeks", {**year, "bucket": "week"}))
    results = []
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            for name, period, params in cases:
                path = f"/api/v1/analytics/{name}"
                for _ in range(5):
                    (await http.get(path, params=params, headers=headers)).raise_for_status()
                took = []
                for _ in range(calls):
                    started = time.perf_counter()
                    response = await http.get(path, params=params, headers=headers)
                    took.append((time.perf_counter() - started) * 1000)
                    response.raise_for_status()
                took.sort()
                p99 = took[min(len(took) - 1, int(len(took) * 0.99))]
                results.append((name, period, statistics.median(took), p99))
                print(f"  {name:16} {period:22} p50 {results[-1][2]:7.1f} ms  p99 {p99:7.1f} ms")
    finally:
        await engine.dispose()
    return results


def report(results: list[tuple[str, str, float, float]]) -> str:
    lines = ["", f"{'endpoint':16} {'period':22} {'p50 ms':>8} {'p99 ms':>8}  p99 ≤ 50 ms"]
    for name, period, p50, p99 in results:
        verdict = "yes" if p99 <= TARGET_MS else "NO"
        lines.append(f"{name:16} {period:22} {p50:8.1f} {p99:8.1f}  {verdict}")
    return "\n".join(lines)


async def main(orders: int, calls: int, seed: int) -> None:
    url, admin, handle = create_bench_database()
    try:
        print(f"PostgreSQL: {make_url(url).render_as_string(hide_password=True)}", flush=True)
        counts = load(url, orders, seed)
        print(
            "loaded "
            + ", ".join(f"{v:,.0f} {k}" for k, v in counts.items() if k != "seconds")
            + f" in {counts['seconds']:.1f} s",
            flush=True,
        )
        print(f"{calls} calls per endpoint and period:", flush=True)
        print(report(await measure(url, calls, customer_id=1)), flush=True)
    finally:
        drop_bench_database(url, admin)
        if handle is not None:
            handle.stop()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.analytics", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--orders", type=int, default=100_000, help="orders to load")
    parser.add_argument("--calls", type=int, default=200, help="timed calls per case")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated history")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse_args()
    asyncio.run(main(args.orders, args.calls, args.seed))
