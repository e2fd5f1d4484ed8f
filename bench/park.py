"""``python -m bench park`` (``make bench-park``): many orders parked in review, and what the
worker pays to keep them.

The stack starts with fast review clocks (``REMIND_AFTER=600`` s, escalation a week away, unless
the caller sets them), so that every parked workflow wakes every ten minutes, up to the
reminder limit (``REMINDER_LIMIT``, 3), to remind its approvers: most of them after the worker
evicted them from its cache, so they are rebuilt from their history. The bench creates N
orders over HTTP (concurrency 16, progress lines on the way), waits until Temporal shows them
all UNDER_REVIEW, then keeps sampling the worker's RSS for a few minutes while the reminders
fire. It reports max and final worker RSS, history events per
parked order and reminders per parked order, over an evenly spread sample of the orders.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from bench.actors import API, Api, BenchFailure, OrderPlan, create_order
from bench.harness import Harness, harness, http_client, passed_through_settings, signed_in_api
from bench.histories import count, events_per_workflow
from bench.lifecycle import order_mix
from bench.pacing import run_limited
from bench.procstats import Reading, machine
from bench.report import percentiles, spread
from bench.stack import ExternalStack, LocalStack

REVIEW_CLOCKS = {"REMIND_AFTER": "600", "ESCALATE_AFTER": "P7D"}
_PROGRESS_EVERY = 5.0  # seconds between progress lines while creating
_SETTLE_LINE_EVERY = 15.0  # ... and while waiting for the orders to reach review


@dataclass
class ParkOptions:
    orders: int = 20_000
    concurrency: int = 16
    seed: int = 7
    observe_seconds: float = 600.0
    sample: int = 200
    #: Waiting for the orders to reach review fails when their count stops growing this long.
    stall_timeout: float = 180.0


def _log(message: str) -> None:
    print(f"bench: {message}", flush=True)


def _mib(readings: dict[str, Reading], name: str) -> str:
    reading = readings.get(name)
    return "?" if reading is None else f"{reading.rss_bytes / 2**20:.0f} MiB"


class _Progress:
    """Throttled progress lines: orders created so far, overall and recent rate, worker RSS."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.created = 0
        self.started = time.perf_counter()
        self._last_at = self.started
        self._last_created = 0

    def on_sample(self, readings: dict[str, Reading]) -> None:
        now = time.perf_counter()
        if self.created >= self.total or now - self._last_at < _PROGRESS_EVERY:
            return
        recent = (self.created - self._last_created) / (now - self._last_at)
        overall = self.created / (now - self.started)
        _log(
            f"created {self.created}/{self.total}: {overall:.1f} orders/s overall, "
            f"{recent:.1f}/s lately; worker RSS {_mib(readings, 'worker')}"
        )
        self._last_at, self._last_created = now, self.created


def _in_review_query(h: Harness) -> str:
    """Orders of this run under review (an external stack may hold older ones)."""
    since = h.started_at.replace("+00:00", "Z")
    return f'OrderStatus = "UNDER_REVIEW" AND StartTime >= "{since}"'


async def _wait_until_parked(h: Harness, expected: int, stall_timeout: float) -> int:
    """Until Temporal shows ``expected`` orders under review, with a progress line every few
    seconds; fails when the count stops growing for ``stall_timeout`` seconds."""
    started = last_growth = last_line = time.monotonic()
    parked = seen = 0
    while True:
        parked = await count(h.temporal, _in_review_query(h))
        now = time.monotonic()
        if parked >= expected:
            return parked
        if parked > seen:
            seen, last_growth = parked, now
        elif now - last_growth > stall_timeout:
            raise BenchFailure(
                f"only {parked} of {expected} orders reached UNDER_REVIEW; none more in the "
                f"last {stall_timeout:.0f}s"
            )
        if now - last_line >= _SETTLE_LINE_EVERY:
            _log(f"in review {parked}/{expected} after {now - started:.0f} s")
            last_line = now
        await asyncio.sleep(_PROGRESS_EVERY)


async def _observe(h: Harness, seconds: float) -> dict[str, Any]:
    """Sample for ``seconds`` while the review clocks fire; a line every 15 s."""
    started = time.perf_counter()
    last = [started]

    def on_sample(readings: dict[str, Reading]) -> None:
        now = time.perf_counter()
        if now - last[0] >= 15.0:
            last[0] = now
            rss = _mib(readings, "worker")
            _log(f"observing, {now - started:.0f}/{seconds:.0f} s: worker RSS {rss}")

    async with h.sampler.phase(on_sample) as usage:
        await asyncio.sleep(seconds)
    h.stack.check_alive()
    return usage.as_dict()


def _review_clocks(stack: LocalStack | ExternalStack) -> dict[str, str] | str:
    """The clocks the parked orders run under: the bench's defaults unless the caller set
    them; an external stack keeps its own."""
    if isinstance(stack, ExternalStack):
        return "those of the external stack"
    settings = passed_through_settings()
    return {name: settings.get(name, value) for name, value in REVIEW_CLOCKS.items()}


def _spread_sample(items: list[str], size: int) -> list[str]:
    if len(items) <= size:
        return list(items)
    step = len(items) / size
    return [items[int(i * step)] for i in range(size)]


async def run_park(options: ParkOptions, stack: LocalStack | ExternalStack) -> dict[str, Any]:
    plans: list[OrderPlan] = order_mix(options.orders, options.seed)
    async with harness(stack, restock_units=0, with_baseline_worker=False) as h:
        results: dict[str, Any] = {
            "mode": "park",
            "run_id": h.run_id,
            "started_at": h.started_at,
            "machine": machine(),
            "settings": {
                "orders": options.orders,
                "concurrency": options.concurrency,
                "seed": options.seed,
                "observe_seconds": options.observe_seconds,
                "review_clocks": _review_clocks(stack),
                "stack": "external" if isinstance(stack, ExternalStack) else "local",
                "env": passed_through_settings(),
            },
            "phases": {},
        }
        progress = _Progress(options.orders)
        async with http_client(h.endpoints.api_url, options.concurrency) as client:
            api = await signed_in_api(h, client, 0.1, 120.0)

            async def one(i: int) -> str:
                order = await create_order(
                    api, plans[i], h.data.customer_id, f"bench-{h.run_id}-park-{i}"
                )
                progress.created += 1
                return str(order["order_no"])

            _log(f"creating {options.orders} orders at concurrency {options.concurrency}")
            async with h.sampler.phase(progress.on_sample) as usage:
                started = time.perf_counter()
                order_nos = await run_limited(options.orders, options.concurrency, one)
                seconds = time.perf_counter() - started
                _log(f"created {options.orders} in {seconds:.1f} s; waiting for all in review")
                await _wait_until_parked(h, options.orders, options.stall_timeout)
                settled = time.perf_counter() - started
            create = {
                "orders": options.orders,
                "seconds": round(seconds, 3),
                "orders_per_s": round(options.orders / seconds, 3),
                "seconds_until_all_in_review": round(settled, 3),
                "in_review_per_s": round(options.orders / settled, 3),
                "calls": percentiles(api.latencies.samples["create"]),
                "retries": dict(api.latencies.retries),
                "usage": usage.as_dict(),
            }
            results["phases"]["create"] = create
            _log(f"all {options.orders} parked; observing for {options.observe_seconds:.0f} s")
            results["phases"]["observe"] = {"usage": await _observe(h, options.observe_seconds)}
            results["parked"] = await count(h.temporal, _in_review_query(h))
            sample = _spread_sample(order_nos, options.sample)
            results["reminders_per_order"] = spread(await _reminders(api, sample))
        events = await events_per_workflow(h.temporal, [f"order-{no}" for no in sample])
        results["history_events"] = spread(events)
        results["worker_rss_mib"] = _worker_rss(results["phases"])
    return results


async def _reminders(api: Api, order_nos: list[str]) -> list[int]:
    """Reminders each order's review shows (``review.levels[].notices``)."""
    counts = []
    for order_no in order_nos:
        response = await api.client.get(f"{API}/orders/{order_no}", headers=api.headers["sales"])
        if response.status_code != 200:
            raise BenchFailure(f"{order_no}: GET order answered {response.status_code}")
        review = response.json().get("review") or {}
        counts.append(
            sum(
                notice.get("kind") == "reminder"
                for level in review.get("levels", [])
                for notice in level.get("notices", [])
            )
        )
    return counts


def _worker_rss(phases: dict[str, Any]) -> dict[str, float | None]:
    """Max and final RSS of the worker in MiB; ``None`` when it was not watched (external)."""
    maxima = [p["usage"]["max_rss_mib"].get("worker") for p in phases.values()]
    seen = [value for value in maxima if value is not None]
    final = phases["observe"]["usage"]["last_rss_mib"].get("worker")
    return {"max": max(seen) if seen else None, "final": final}
