"""The demo's scenarios, built from the roles' moves in :mod:`demo.moves`.

Every scenario enters one order as sales and walks it as far as the story goes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import httpx

from demo.api import ApiError
from demo.moves import (
    FULFIL_SECONDS,
    HUMAN_PAUSE,
    OPS,
    REVIEW_SECONDS,
    SALES,
    Demo,
    Outcome,
    approve_every_level,
    enter_order,
    report_step,
    run_production,
    ship_and_confirm,
    tell_line_load,
)
from demo.story import Stuck, count

Scenario = Callable[[Demo, Outcome], Awaitable[None]]


def from_stock(lines: list[tuple[str, int]], supervisor: str) -> Scenario:
    """a. An order that stock covers: review, then straight to shipping, no production."""

    async def play(demo: Demo, outcome: Outcome) -> None:
        covered = [demo.take_stock(sku, quantity) == quantity for sku, quantity in lines]
        purpose = (
            "stock covers it, so no production"
            if all(covered)
            else "stock no longer covers it after earlier runs, so production makes the rest"
        )
        order = await enter_order(demo, outcome, lines, purpose)
        await approve_every_level(demo, order, supervisor)
        if order.status == "REJECTED":
            return
        detail = await order.until(
            "AWAITING_SHIPMENT",
            "IN_PRODUCTION",
            within=FULFIL_SECONDS,
            waiting_for="stock reservation",
        )
        if detail["status"] == "IN_PRODUCTION":
            await run_production(demo, order)
        await ship_and_confirm(demo, order, outcome)

    return play


async def made_to_order(demo: Demo, outcome: Outcome) -> None:
    """b. More pumps than stock holds: production makes the rest, one unit is scrapped and a
    re-plan work order makes it up."""
    sku, shortfall = "PUMP-100", 6
    in_stock = demo.take_all_stock(sku)
    order = await enter_order(
        demo,
        outcome,
        [(sku, in_stock + shortfall)],
        f"{in_stock} in stock, production makes {shortfall}",
    )
    await approve_every_level(demo, order, supervisor="sup1")
    if order.status == "REJECTED":
        return
    detail = await order.until(
        "IN_PRODUCTION",
        "AWAITING_SHIPMENT",
        within=FULFIL_SECONDS,
        waiting_for="production planning",
    )
    if detail["status"] == "IN_PRODUCTION":
        await run_production(demo, order, scrap_once=True)
    await ship_and_confirm(demo, order, outcome)


async def cancelled_in_production(demo: Demo, outcome: Outcome) -> None:
    """c. Approved, in production, then cancelled: the workflow undoes what the order set in
    motion, last first."""
    sku, shortfall = "MOTOR-7K", 3
    in_stock = demo.take_all_stock(sku)
    order = await enter_order(
        demo,
        outcome,
        [(sku, in_stock + shortfall)],
        f"{in_stock} in stock, production makes {shortfall}; ACME will withdraw it",
    )
    await approve_every_level(demo, order, supervisor="sup2")
    if order.status == "REJECTED":
        return
    detail = await order.until(
        "IN_PRODUCTION", within=FULFIL_SECONDS, waiting_for="production planning"
    )
    await tell_line_load(demo, order)
    await report_step(demo, order, detail["production"]["work_orders"][0], 0)
    await asyncio.sleep(HUMAN_PAUSE)
    order.say(f"{SALES} cancels the order: ACME withdrew it")
    cancel = {"reason": "ACME withdrew the order"}
    detail = order.show(await demo.api.post(SALES, f"/orders/{order.order_no}/cancel", cancel))
    for movement in detail["stock_movements"]:
        if movement["kind"] == "release":
            order.say(f"undone: {movement['quantity']} × {movement['sku']} released to stock")
    for work_order in (detail.get("production") or {}).get("work_orders", []):
        if work_order["status"] == "cancelled":
            done = sum(step["status"] == "completed" for step in work_order["steps"])
            order.say(
                f"undone: {work_order['work_order_no']} cancelled with {done}/"
                f"{len(work_order['steps'])} steps done, freeing {work_order['line']}"
            )
    products = (await demo.api.get(SALES, "/products"))["data"]
    available = next(p["stock_available"] for p in products if p["sku"] == sku)
    order.say(
        f"{sku} available again: {available}; the workflow's current details in the "
        "Temporal UI list what was undone"
    )


async def rejected_in_review(demo: Demo, outcome: Outcome) -> None:
    """e. Above 100,000 CNY three levels must approve; the supervisor rejects with a comment."""
    order = await enter_order(
        demo,
        outcome,
        [("PANEL-CTL", 5)],
        "above 100,000 CNY, so three levels must approve",
    )
    detail = await order.until(
        "UNDER_REVIEW", "REJECTED", within=REVIEW_SECONDS, waiting_for="validation"
    )
    if detail["status"] == "REJECTED":
        return
    levels = detail["review"]["levels"]
    roles = " → ".join(level["role"] for level in levels)
    order.say(f"the approval policy asks for {count(len(levels), 'level')}: {roles}")
    await asyncio.sleep(HUMAN_PAUSE)
    comment = "Price not agreed with ACME yet; re-quote at the framework-contract price."
    order.say("sup2 (supervisor) rejects level 1, with a comment for sales")
    decision = {"decision": "reject", "comment": comment}
    order.show(await demo.api.post("sup2", f"/orders/{order.order_no}/decisions", decision))
    await order.until("REJECTED", within=REVIEW_SECONDS, waiting_for="the rejection")


async def left_with_the_manager(demo: Demo, outcome: Outcome) -> None:
    """f. Between 10,000 and 100,000 CNY two levels must approve: the supervisor approves and
    the order is left waiting on a manager, so the dashboard and the pending approvals have
    an order to show."""
    order = await enter_order(
        demo, outcome, [("MOTOR-7K", 3)], "two levels must approve; the manager has not yet"
    )
    await order.until("UNDER_REVIEW", "REJECTED", within=REVIEW_SECONDS, waiting_for="validation")
    if order.status == "REJECTED":
        return
    await asyncio.sleep(HUMAN_PAUSE)
    order.say("sup2 (supervisor) approves level 1; level 2 now waits on a manager")
    decision = {"decision": "approve", "comment": "Volume fits this quarter's plan."}
    order.show(await demo.api.post("sup2", f"/orders/{order.order_no}/decisions", decision))
    order.say("left waiting on the manager: see it in GET /approvals/pending as mgr1 or ops1")


async def held_before_shipping(demo: Demo, outcome: Outcome) -> None:
    """g. Ops holds an approved order before it ships, at the customer's request, and leaves
    it on hold."""
    lines = [("VALVE-25", 10)]
    demo.take_stock("VALVE-25", 10)
    order = await enter_order(demo, outcome, lines, "ACME will ask to pause it before shipping")
    await approve_every_level(demo, order, "sup1")
    if order.status == "REJECTED":
        return
    await order.until(
        "AWAITING_SHIPMENT",
        "IN_PRODUCTION",
        within=FULFIL_SECONDS,
        waiting_for="stock reservation",
    )
    await asyncio.sleep(HUMAN_PAUSE)
    order.say(f"{OPS} puts it on hold: ACME's site is not ready to receive it")
    reason = {"reason": "ACME asked to pause delivery: receiving site not ready"}
    order.show(await demo.api.post(OPS, f"/orders/{order.order_no}/hold", reason))


async def play(demo: Demo, outcome: Outcome, scenario: Scenario, delay: float) -> None:
    """Run one scenario after ``delay`` seconds; a refusal or a stuck order ends only it."""
    await asyncio.sleep(delay)
    try:
        await scenario(demo, outcome)
    except (Stuck, ApiError, httpx.HTTPError) as exc:
        outcome.problem = str(exc) or type(exc).__name__
        order_no = outcome.order.order_no if outcome.order else None
        demo.story.say(outcome.tag, order_no, f"PROBLEM: {outcome.problem}")
    if outcome.order is not None:
        # Failing that, the summary shows the last status seen.
        with contextlib.suppress(ApiError, httpx.HTTPError):
            await outcome.order.refresh()
