"""What each order of a chaos run is meant to do, chosen up front from the seed.

A script is a walk of the order flow whose end is known before it starts: approved at every
level and completed (from stock, or made to order, or left to auto-confirm), rejected at some
level, cancelled under review or while awaiting shipment, held under review and resumed.
Besides the terminal status, each script knows the statuses its history must pass through,
the decisions it makes and the stock it moves, so the checks after the run can say what
should be there exactly once.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.actors import APPROVER_ROLES, QUANTITY_FOR_LEVELS
from bench.setup_data import MADE_TO_ORDER_SKU, STOCK_SKU
from chaos.client import ChaosClient, OrderFailure

SCRIPTS = {
    # name: (weight, terminal status)
    "complete from stock": (3, "COMPLETED"),
    "complete made to order": (3, "COMPLETED"),
    "auto-confirmed": (2, "COMPLETED"),
    "held and resumed": (2, "COMPLETED"),
    "rejected": (2, "REJECTED"),
    "cancelled in review": (2, "CANCELLED"),
    "cancelled awaiting shipment": (1, "CANCELLED"),
}
_SHIPPED = ["SHIPPED", "DELIVERED", "COMPLETED"]
_CARRIER_STATUSES = ["in_transit", "out_for_delivery", "delivered"]


@dataclass(frozen=True)
class Plan:
    """One order's script: its name, review levels, and the level it stops at (a rejection
    or a cancellation after that many approvals)."""

    index: int
    script: str
    levels: int
    stop_level: int

    @property
    def terminal(self) -> str:
        return SCRIPTS[self.script][1]

    @property
    def made_to_order(self) -> bool:
        return self.script == "complete made to order"

    @property
    def sku(self) -> str:
        return MADE_TO_ORDER_SKU if self.made_to_order else STOCK_SKU

    @property
    def quantity(self) -> int:
        return QUANTITY_FOR_LEVELS[self.levels]

    @property
    def approvals(self) -> int:
        """How many levels get approved."""
        if self.script in ("rejected", "cancelled in review"):
            return self.stop_level
        return self.levels

    def decisions(self) -> list[tuple[str, str]]:
        """(approver role, decision) of every decision the script makes."""
        made = [(role, "approve") for role in APPROVER_ROLES[: self.approvals]]
        if self.script == "rejected":
            made.append((APPROVER_ROLES[self.stop_level], "reject"))
        return made

    def path(self) -> list[str]:
        """The statuses of the history, the product's own fault holds left out."""
        review = ["CREATED", "UNDER_REVIEW"]
        if self.script == "held and resumed":
            review += ["ON_HOLD", "UNDER_REVIEW"]
        if self.script == "rejected":
            return [*review, "REJECTED"]
        if self.script == "cancelled in review":
            return [*review, "CANCELLED"]
        made = ["IN_PRODUCTION"] if self.made_to_order else []
        ready = [*review, "APPROVED", *made, "AWAITING_SHIPMENT"]
        if self.script == "cancelled awaiting shipment":
            return [*ready, "CANCELLED"]
        return [*ready, *_SHIPPED]

    def stock_moves(self) -> dict[str, int]:
        """Units moved by kind: every kind exactly once, or not at all."""
        if self.script in ("rejected", "cancelled in review"):
            return {}
        q = self.quantity
        if self.script == "cancelled awaiting shipment":
            return {"reserve": q, "release": q}
        if self.made_to_order:
            return {"produce": q, "reserve": q, "ship": q}
        return {"reserve": q, "ship": q}


def plan_orders(count: int, rng: random.Random) -> list[Plan]:
    """``count`` scripts drawn by weight, each with 1-3 review levels."""
    names = list(SCRIPTS)
    weights = [SCRIPTS[name][0] for name in names]
    plans: list[Plan] = []
    for index in range(count):
        script = rng.choices(names, weights)[0]
        levels = rng.choice([1, 1, 2, 2, 3])
        stop_level = rng.randrange(levels)
        plans.append(Plan(index, script, levels, stop_level))
    return plans


async def run_script(
    client: ChaosClient, plan: Plan, customer_id: int, run_id: str, entered: dict[str, Plan]
) -> None:
    """Walk one order through its script, noting its number in ``entered`` as soon as it has
    one. Raises :class:`OrderFailure`."""
    key = f"chaos-{run_id}-{plan.index}"
    body = {"customer_id": customer_id, "lines": [{"sku": plan.sku, "quantity": plan.quantity}]}

    async def enter() -> None:
        await client.create(body, key)

    order = await client.create(body, key)
    order_no: str = order["order_no"]
    entered[order_no] = plan
    try:
        await _walk(client, plan, order_no, enter)
    except OrderFailure:
        raise
    except Exception as error:  # name the order whatever went wrong
        raise OrderFailure(f"{order_no} ({plan.script}): {error!r}") from error


async def _walk(client: ChaosClient, plan: Plan, order_no: str, enter: Any) -> None:
    await client.wait_for(order_no, {"UNDER_REVIEW"}, resend_entry=enter)
    if plan.script == "held and resumed":
        await client.act(order_no, "hold", "ops", {"reason": "chaos: held"}, _status("ON_HOLD"))
        await client.act(order_no, "resume", "ops", {"reason": "chaos: resumed"}, _left("ON_HOLD"))
    for role, decision in plan.decisions():
        comment = "chaos: rejected" if decision == "reject" else None
        await client.decide(order_no, role, decision, comment)
    if plan.script == "rejected":
        await client.wait_for(order_no, {"REJECTED"})
        return
    if plan.script == "cancelled in review":
        await client.act(
            order_no, "cancel", "sales", {"reason": "chaos: cancelled"}, _status("CANCELLED")
        )
        return
    order = await client.wait_for(order_no, {"IN_PRODUCTION", "AWAITING_SHIPMENT"})
    if order["status"] == "IN_PRODUCTION":
        await _produce(client, order)
        await client.wait_for(order_no, {"AWAITING_SHIPMENT"})
    if plan.script == "cancelled awaiting shipment":
        await client.act(
            order_no, "cancel", "sales", {"reason": "chaos: cancelled"}, _status("CANCELLED")
        )
        return
    order = await client.act(order_no, "dispatch", "logistics", None, _status(*_SHIPPED))
    tracking_no = (order.get("shipment") or {}).get("tracking_no")
    if not tracking_no:
        raise OrderFailure(f"{order_no} is {order['status']} with no tracking number")
    moment = datetime.now(UTC)
    for i, status in enumerate(_CARRIER_STATUSES):
        await client.carrier_event(tracking_no, status, moment + timedelta(milliseconds=i))
    await client.wait_for(order_no, {"DELIVERED", "COMPLETED"})
    if plan.script != "auto-confirmed":
        await client.act(order_no, "confirm-delivery", "customer", None, _status("COMPLETED"))
    await client.wait_for(order_no, {"COMPLETED"})


async def _produce(client: ChaosClient, order: dict[str, Any]) -> None:
    """``completed`` for every open step of every work order, in routing order."""
    order_no = order["order_no"]
    work_orders = (order.get("production") or {}).get("work_orders") or []
    if not work_orders:
        raise OrderFailure(f"{order_no} is IN_PRODUCTION without work orders")
    for work_order in work_orders:
        number = work_order["work_order_no"]
        for step in work_order["steps"]:
            if step["status"] in ("completed", "skipped"):
                continue
            report = {"step": step["name"], "event": "completed", "work_order_no": number}
            await client.act(
                order_no, "production-events", "production", report, _step_done(number, step)
            )


def _status(*statuses: str) -> Any:
    return lambda order: order["status"] in statuses


def _left(status: str) -> Any:
    return lambda order: order["status"] != status


def _step_done(work_order_no: str, step: dict[str, Any]) -> Any:
    def done(order: dict[str, Any]) -> bool:
        for work_order in (order.get("production") or {}).get("work_orders") or []:
            if work_order["work_order_no"] == work_order_no:
                return any(
                    s["name"] == step["name"] and s["status"] == "completed"
                    for s in work_order["steps"]
                )
        return order["status"] not in ("APPROVED", "IN_PRODUCTION")

    return done


def new_run_id() -> str:
    return uuid.uuid4().hex[:8]
