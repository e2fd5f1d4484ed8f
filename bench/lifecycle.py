"""``python -m bench`` (``make bench``): whole order lifecycles against Temporal's own floor.

Three phases on one stack, in one run:

1. **saturated** — N orders, C at a time, each walked from entry to COMPLETED by the actors
   over HTTP (``bench.actors``), while a probe measures the bare update round trip;
2. **half load** — N/2 orders arriving at half the saturated orders/s, uniformly spaced, each
   order's actors running as soon as it arrives (per-call latency when not saturated), probe on;
3. **baseline** — N no-op orders of the median order's shape (``bench.baseline``), C at a
   time, driven through the Temporal SDK on the same dev server: the engine's floor.

Then the history events of every order are counted, and the figures printed and written.
The order mix is deterministic for a seed: 40/40/20 % one-, two- and three-level reviews,
half from stock and half made to order, so the median order has two review levels and
production — the shape the baseline repeats.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from dataclasses import asdict, dataclass
from typing import Any

from bench.actors import CALL_KINDS, Api, Latencies, OrderOutcome, OrderPlan, run_order
from bench.baseline import OrderShape
from bench.baseline_driver import UpdateProbe, run_baseline_order
from bench.harness import Harness, harness, http_client, passed_through_settings, signed_in_api
from bench.histories import count, events_per_workflow
from bench.pacing import run_at_rate, run_limited
from bench.procstats import machine
from bench.report import percentiles, spread
from bench.setup_data import ROUTING
from bench.stack import ExternalStack, LocalStack


@dataclass
class LifecycleOptions:
    orders: int = 200
    concurrency: int = 16
    seed: int = 7
    poll_interval: float = 0.075
    stuck_after: float = 120.0
    half_load: bool = True
    baseline: bool = True


def _log(message: str) -> None:
    print(f"bench: {message}", flush=True)


def order_mix(count: int, seed: int, first_index: int = 0) -> list[OrderPlan]:
    """``count`` orders: 40/40/20 % one-, two-, three-level reviews and half made to order
    (rounded up), shuffled by a seeded RNG."""
    rng = random.Random(seed)
    ones, threes = round(count * 0.4), round(count * 0.2)
    levels = [1] * ones + [2] * (count - ones - threes) + [3] * threes
    made = math.ceil(count / 2)
    to_order = [True] * made + [False] * (count - made)
    rng.shuffle(levels)
    rng.shuffle(to_order)
    return [
        OrderPlan(first_index + i, level, mto)
        for i, (level, mto) in enumerate(zip(levels, to_order, strict=True))
    ]


def median_shape(plans: list[OrderPlan]) -> OrderShape:
    """The messages of the median order: its review levels, and production when at least
    half the orders are made to order."""
    levels = int(statistics.median_high(plan.review_levels for plan in plans))
    produced = sum(plan.made_to_order for plan in plans) * 2 >= len(plans)
    return OrderShape(review_levels=levels, production_steps=len(ROUTING) if produced else 0)


def _phase_figures(
    orders: int, seconds: float, order_seconds: list[float], latencies: Latencies
) -> dict[str, Any]:
    return {
        "orders": orders,
        "seconds": round(seconds, 3),
        "orders_per_s": round(orders / seconds, 3) if seconds else 0.0,
        "order_seconds": percentiles(order_seconds),
        "calls": {kind: percentiles(latencies.samples.get(kind, [])) for kind in CALL_KINDS},
        "retries": dict(latencies.retries),
    }


async def _product_phase(
    h: Harness,
    api: Api,
    probe: UpdateProbe,
    plans: list[OrderPlan],
    *,
    label: str,
    concurrency: int | None = None,
    rate: float | None = None,
) -> tuple[dict[str, Any], list[OrderOutcome]]:
    """One product run, at fixed concurrency or at a fixed arrival rate."""

    async def one(i: int) -> OrderOutcome:
        plan = plans[i]
        key = f"bench-{h.run_id}-{label}-{plan.index}"
        return await run_order(api, plan, h.data.customer_id, key)

    api.reset_latencies()
    async with h.sampler.phase() as usage, probe.measuring() as probe_samples:
        started = time.perf_counter()
        if rate is not None:
            outcomes = await run_at_rate(len(plans), rate, one)
        else:
            outcomes = await run_limited(len(plans), concurrency or 1, one)
        seconds = time.perf_counter() - started
    h.stack.check_alive()
    latencies = api.reset_latencies()
    figures = _phase_figures(len(plans), seconds, [o.seconds for o in outcomes], latencies)
    figures["update_probe"] = percentiles(probe_samples.seconds)
    figures["update_probe"]["errors"] = probe_samples.errors
    figures["polls_per_order"] = round(statistics.mean(o.polls for o in outcomes), 2)
    figures["usage"] = usage.as_dict()
    _log(
        f"{label}: {len(plans)} orders in {seconds:.1f} s = {figures['orders_per_s']:.2f} "
        "orders/s, every one COMPLETED"
    )
    return figures, outcomes


async def _baseline_phase(
    h: Harness, shape: OrderShape, orders: int, concurrency: int
) -> tuple[dict[str, Any], list[str]]:
    latencies = Latencies()
    ids = [f"bench-baseline-{h.run_id}-{i}" for i in range(orders)]

    async def one(i: int) -> float:
        return await run_baseline_order(h.temporal, shape, ids[i], latencies)

    async with h.sampler.phase() as usage:
        started = time.perf_counter()
        order_seconds = await run_limited(orders, concurrency, one)
        seconds = time.perf_counter() - started
    figures = _phase_figures(orders, seconds, order_seconds, latencies)
    figures["usage"] = usage.as_dict()
    _log(f"baseline: {orders} orders in {seconds:.1f} s = {figures['orders_per_s']:.2f} orders/s")
    return figures, ids


async def run_lifecycle(
    options: LifecycleOptions, stack: LocalStack | ExternalStack
) -> dict[str, Any]:
    """Every phase; returns the results dict (also rendered and written by the caller)."""
    plans = order_mix(options.orders, options.seed)
    half_plans = order_mix(max(1, options.orders // 2), options.seed + 1, options.orders)
    shape = median_shape(plans)
    restock = sum(p.quantity for p in plans + half_plans if not p.made_to_order)
    async with harness(stack, restock_units=restock, with_baseline_worker=True) as h:
        results: dict[str, Any] = {
            "mode": "lifecycle",
            "run_id": h.run_id,
            "started_at": h.started_at,
            "machine": machine(),
            "settings": {
                "orders": options.orders,
                "concurrency": options.concurrency,
                "seed": options.seed,
                "poll_interval_ms": round(options.poll_interval * 1000),
                "stuck_after_s": options.stuck_after,
                "stack": "external" if isinstance(stack, ExternalStack) else "local",
                "env": passed_through_settings(),
            },
            "mix": {
                "review_levels": {
                    str(n): sum(p.review_levels == n for p in plans) for n in (1, 2, 3)
                },
                "made_to_order": sum(p.made_to_order for p in plans),
                "from_stock": sum(not p.made_to_order for p in plans),
            },
            "baseline_shape": asdict(shape),
            "phases": {},
        }
        probe = UpdateProbe(h.temporal, h.run_id)
        phases = results["phases"]
        async with http_client(h.endpoints.api_url, options.concurrency) as client:
            api = await signed_in_api(h, client, options.poll_interval, options.stuck_after)
            _log(f"saturated: {options.orders} orders at concurrency {options.concurrency}")
            phases["saturated"], outcomes = await _product_phase(
                h, api, probe, plans, label="saturated", concurrency=options.concurrency
            )
            if options.half_load:
                rate = phases["saturated"]["orders_per_s"] / 2
                _log(f"half load: {len(half_plans)} orders arriving at {rate:.2f}/s")
                phases["half_load"], more = await _product_phase(
                    h, api, probe, half_plans, label="half", rate=rate
                )
                phases["half_load"]["arrival_rate"] = round(rate, 3)
                outcomes += more
        baseline_ids: list[str] = []
        if options.baseline:
            _log(f"baseline: {options.orders} no-op orders of shape {shape}")
            phases["baseline"], baseline_ids = await _baseline_phase(
                h, shape, options.orders, options.concurrency
            )
            results["ratio"] = round(
                phases["saturated"]["orders_per_s"] / phases["baseline"]["orders_per_s"], 3
            )
        _log("counting history events")
        results["history_events"] = await _history_events(h, outcomes, shape, baseline_ids)
        results["other_workflows_per_order"] = await _other_workflows_per_order(
            h, len(outcomes), len(baseline_ids), len(probe.workflow_ids)
        )
    return results


async def _history_events(
    h: Harness, outcomes: list[OrderOutcome], shape: OrderShape, baseline_ids: list[str]
) -> dict[str, Any]:
    product = await events_per_workflow(h.temporal, [f"order-{o.order_no}" for o in outcomes])
    median_shaped = [
        events
        for events, o in zip(product, outcomes, strict=True)
        if o.plan.review_levels == shape.review_levels
        and o.plan.made_to_order == bool(shape.production_steps)
    ]
    figures = {"product": spread(product), "product_median_shape": spread(median_shaped)}
    if baseline_ids:
        figures["baseline"] = spread(await events_per_workflow(h.temporal, baseline_ids))
    return figures


async def _other_workflows_per_order(
    h: Harness, orders: int, baselines: int, probes: int
) -> float | None:
    """Workflows besides the orders themselves (notifications...) per product order; only
    meaningful on the bench's own fresh stack."""
    if isinstance(h.stack, ExternalStack) or not orders:
        return None
    total = await count(h.temporal)
    return round((total - orders - baselines - probes) / orders, 2)
