"""What each role does in the demo: the demo's people and pace, what every scenario shares,
and the moves (entering, approving, making, shipping) that scenarios are built from.

Quantities come from the stock on hand when the demo starts, so the same stories play on a
database that earlier runs have already drawn on.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from demo.api import Api
from demo.story import Narrator, TrackedOrder, count, money, rate

SALES = "sales1"
PRODUCTION = "prod1"
LOGISTICS = "log1"
OPS = "ops1"
CUSTOMER = "acme"
# Supervisors vary per scenario; the other approval levels have one demo user each.
APPROVER_OF_ROLE = {"manager": "mgr1", "director": "dir1", "finance": "fin1"}
EVERY_USER = [
    SALES,
    "sup1",
    "sup2",
    *APPROVER_OF_ROLE.values(),
    PRODUCTION,
    LOGISTICS,
    OPS,
    CUSTOMER,
]

# How long each stretch may take before the order counts as stuck, in seconds.
REVIEW_SECONDS = 30.0
FULFIL_SECONDS = 60.0
DELIVERY_SECONDS = 120.0
# People take a moment between actions, which keeps the story readable and gives the Temporal
# UI time to show each status.
HUMAN_PAUSE = 1.0
SHOP_FLOOR_PAUSE = 0.5


@dataclass
class Outcome:
    """How one scenario ended, for the summary table."""

    tag: str
    title: str
    expected: str
    order: TrackedOrder | None = None
    carrier_exception: bool = False
    problem: str | None = None

    @property
    def final(self) -> str:
        return self.order.status if self.order else "not entered"

    @property
    def ok(self) -> bool:
        return self.problem is None and self.final == self.expected

    def route(self) -> str:
        """How the order went: from stock, through production, or stopped in review."""
        if self.order is None:
            return "—"
        detail = self.order.detail
        production = detail.get("production")
        if production:
            work_orders = production["work_orders"]
            route = count(len(work_orders), "work order")
            replans = sum(1 for wo in work_orders if wo["replan_of"])
            if replans:
                route += f" ({replans} re-plan)"
            if any(wo["status"] == "cancelled" for wo in work_orders):
                route += ", cancelled"
        elif detail.get("shipment"):
            route = "from stock"
        else:
            route = "review only"
        if self.carrier_exception:
            route += ", carrier exception"
        return route


@dataclass
class Demo:
    """What every scenario needs: the API, the narrator, ACME and the stock at the start."""

    api: Api
    story: Narrator
    customer_id: int
    prices: dict[str, Decimal]
    available: dict[str, int]
    started_at: datetime

    @classmethod
    async def load(cls, api: Api, story: Narrator, started_at: datetime) -> Demo:
        customers = (await api.get(SALES, "/customers"))["data"]
        acme = next((c for c in customers if c["code"] == "ACME"), None)
        if acme is None:
            raise LookupError("there is no customer ACME")
        products = (await api.get(SALES, "/products"))["data"]
        return cls(
            api=api,
            story=story,
            customer_id=acme["id"],
            prices={p["sku"]: Decimal(p["unit_price"]) for p in products},
            available={p["sku"]: p["stock_available"] for p in products},
            started_at=started_at,
        )

    def take_stock(self, sku: str, quantity: int) -> int:
        """Units of ``quantity`` that available stock covers, set aside from later scenarios."""
        covered = min(quantity, self.available_of(sku))
        self.available[sku] = self.available_of(sku) - covered
        return covered

    def take_all_stock(self, sku: str) -> int:
        return self.take_stock(sku, self.available_of(sku))

    def available_of(self, sku: str) -> int:
        return max(self.available.get(sku, 0), 0)


# Days from entry to the delivery date ACME asks for, per scenario: one is wanted today.
REQUESTED_IN_DAYS = {"a1": 7, "b": 10, "c": 5, "a2": 3, "a3": 0, "e": 14, "f": 21, "g": 6}


async def enter_order(
    demo: Demo, outcome: Outcome, lines: list[tuple[str, int]], purpose: str
) -> TrackedOrder:
    """Sales enters the order with the day ACME wants it; an Idempotency-Key makes a retried
    request harmless."""
    wanted = datetime.now(UTC).date() + timedelta(days=REQUESTED_IN_DAYS.get(outcome.tag, 7))
    body = {
        "customer_id": demo.customer_id,
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
        "requested_delivery_date": wanted.isoformat(),
    }
    key = {"Idempotency-Key": f"demo-{uuid.uuid4()}"}
    detail = await demo.api.post(SALES, "/orders", body, headers=key)
    order = TrackedOrder(demo.api, demo.story, outcome.tag, detail)
    outcome.order = order
    total = sum((demo.prices[sku] * quantity for sku, quantity in lines), Decimal(0))
    what = " + ".join(f"{quantity} × {sku}" for sku, quantity in lines)
    order.say(f"{SALES} enters {what} for ACME, {money(total)}, wanted by {wanted}: {purpose}")
    order.say(f"follow it in the Temporal UI: {demo.story.workflow_link(order.order_no)}")
    order.show(detail)
    return order


async def approve_every_level(demo: Demo, order: TrackedOrder, supervisor: str) -> None:
    """Each level the approval policy asks for is approved by a different person, in order."""
    detail = await order.until(
        "UNDER_REVIEW", "REJECTED", within=REVIEW_SECONDS, waiting_for="validation"
    )
    if detail["status"] == "REJECTED":
        return  # validation refused it; the history just told why
    levels = detail["review"]["levels"]
    roles = " → ".join(level["role"] for level in levels)
    order.say(f"the approval policy asks for {count(len(levels), 'level')}: {roles}")
    for level in levels:
        role = level["role"]
        approver = supervisor if role == "supervisor" else APPROVER_OF_ROLE[role]
        await asyncio.sleep(HUMAN_PAUSE)
        order.say(f"{approver} ({role}) approves level {level['level']} of {len(levels)}")
        decision = {"decision": "approve", "comment": "price and delivery date checked"}
        order.show(await demo.api.post(approver, f"/orders/{order.order_no}/decisions", decision))


async def report_step(
    demo: Demo, order: TrackedOrder, work_order: dict[str, Any], index: int, scrap: int = 0
) -> dict[str, Any]:
    """The shop floor starts a step and completes it; every unit that entered leaves it good
    or scrapped."""
    step = work_order["steps"][index]
    units = units_entering(work_order, index)
    where = f"{step['name']} of {work_order['work_order_no']}"
    path = f"/orders/{order.order_no}/production-events"
    report: dict[str, Any] = {"step": step["name"], "work_order_no": work_order["work_order_no"]}
    if step["status"] == "pending":
        order.say(f"{PRODUCTION} starts {where}: {units} × {work_order['sku']}")
        order.show(await demo.api.post(PRODUCTION, path, {**report, "event": "started"}))
        await asyncio.sleep(SHOP_FLOOR_PAUSE)
    good = units - scrap
    done = f"{PRODUCTION} completes {where}: {good} good"
    if scrap:
        report["note"] = f"{count(scrap, 'unit')} failed at {step['name']}"
        done += f", {scrap} scrapped ({report['note']})"
    order.say(done)
    completed = {**report, "event": "completed", "good_qty": good, "scrap_qty": scrap}
    detail = order.show(await demo.api.post(PRODUCTION, path, completed))
    await asyncio.sleep(SHOP_FLOOR_PAUSE)
    return detail


async def run_production(demo: Demo, order: TrackedOrder, *, scrap_once: bool = False) -> None:
    """Work through every open work order in routing order, re-plans included, until none is
    left; with ``scrap_once``, one unit fails the last step of the first work order."""
    await tell_line_load(demo, order)
    scrapped = not scrap_once
    while (found := _next_step(order.detail)) is not None:
        work_order, index = found
        last = index == len(work_order["steps"]) - 1
        scrap = 1 if not scrapped and last and units_entering(work_order, index) > 1 else 0
        detail = await report_step(demo, order, work_order, index, scrap)
        if scrap:
            scrapped = True
            replan = next(
                (
                    wo
                    for wo in detail["production"]["work_orders"]
                    if wo["replan_of"] == work_order["work_order_no"]
                ),
                None,
            )
            if replan is not None:
                order.say(
                    f"the workflow books re-plan work order {replan['work_order_no']} for the "
                    f"missing {replan['quantity']} × {replan['sku']} on {replan['line']}"
                )


def units_entering(work_order: dict[str, Any], index: int) -> int:
    """The work order's quantity at its first step, then the good output of the step before."""
    if index == 0:
        units: int = work_order["quantity"]
    else:
        units = work_order["steps"][index - 1]["good_qty"]
    return units


def _next_step(detail: dict[str, Any]) -> tuple[dict[str, Any], int] | None:
    """The first step still to do of the first open work order, if any."""
    if detail["status"] != "IN_PRODUCTION" or not detail.get("production"):
        return None
    for work_order in detail["production"]["work_orders"]:
        if work_order["status"] != "open":
            continue
        for index, step in enumerate(work_order["steps"]):
            if step["status"] in ("pending", "started"):
                return work_order, index
    return None


async def tell_line_load(demo: Demo, order: TrackedOrder) -> None:
    """How busy the lines the order's work orders went to are, as planning sees them."""
    production = order.detail.get("production") or {}
    wanted = {wo["line"] for wo in production.get("work_orders", [])}
    for line in (await demo.api.get(OPS, "/production-lines"))["data"]:
        if line["code"] in wanted:
            order.say(
                f"{line['code']} ({rate(line['units_per_hour'])}) now has "
                f"{count(line['open_work_orders'], 'open work order')}, "
                f"{count(line['queued_units'], 'unit')}, booked for {line['booked_hours']} h"
            )


async def ship_and_confirm(demo: Demo, order: TrackedOrder, outcome: Outcome) -> None:
    """Logistics dispatches; the carrier simulator reports tracking on its own; ops resumes an
    order that a carrier exception put on hold; the customer confirms receipt."""
    detail = await order.until(
        "AWAITING_SHIPMENT", within=FULFIL_SECONDS, waiting_for="the shipment booking"
    )
    shipment = detail["shipment"]
    await asyncio.sleep(HUMAN_PAUSE)
    order.say(f"{LOGISTICS} hands {shipment['tracking_no']} to the {shipment['carrier']} carrier")
    order.show(await demo.api.post(LOGISTICS, f"/orders/{order.order_no}/dispatch"))
    while True:
        detail = await order.until(
            "DELIVERED", "ON_HOLD", within=DELIVERY_SECONDS, waiting_for="the carrier to deliver"
        )
        if detail["status"] == "DELIVERED":
            break
        outcome.carrier_exception = True
        await asyncio.sleep(HUMAN_PAUSE)
        order.say(f"{OPS} (ops) agrees a second delivery attempt with ACME and resumes the order")
        reason = {"reason": "ACME will take the goods at the second delivery attempt"}
        order.show(await demo.api.post(OPS, f"/orders/{order.order_no}/resume", reason))
    await asyncio.sleep(HUMAN_PAUSE)
    order.say(f"{CUSTOMER} (customer ACME) confirms receipt")
    # The customer is answered with its own view of the order; the story reads the whole one.
    await demo.api.post(CUSTOMER, f"/orders/{order.order_no}/confirm-delivery")
    await order.refresh()
