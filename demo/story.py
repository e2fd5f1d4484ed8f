"""Telling what happens: one line per step, and orders watched until they reach a status.

Orders move on their own between the demo's actions (the workflow books stock and shipments,
the carrier simulator posts tracking events), so each watched order is polled, and whatever is
new in its history or tracking timeline is told as it appears.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from demo.api import Api

POLL_SECONDS = 0.5
# Whose eyes the demo watches orders with: ops may read every order.
WATCHER = "ops1"


class Stuck(Exception):
    """An order did not reach the expected status in time; the message says where it is."""


class Narrator:
    """Prints each step with the seconds since the demo began, the scenario and the order."""

    def __init__(self, temporal_ui: str, namespace: str) -> None:
        self.temporal_ui = temporal_ui.rstrip("/")
        self.namespace = namespace
        self._began = time.monotonic()

    def say(self, tag: str, order_no: str | None, text: str) -> None:
        elapsed = time.monotonic() - self._began
        print(f"{elapsed:6.1f}s  {tag:<3} {order_no or '':<15} {text}", flush=True)

    def workflows_link(self) -> str:
        return f"{self.temporal_ui}/namespaces/{self.namespace}/workflows"

    def workflow_link(self, order_no: str) -> str:
        return f"{self.workflows_link()}/order-{order_no}"


@dataclass
class TrackedOrder:
    """An order the demo acts on, with what has already been told about it."""

    api: Api
    story: Narrator
    tag: str
    detail: dict[str, Any]
    _told: set[tuple[str, ...]] = field(default_factory=set)

    @property
    def order_no(self) -> str:
        order_no: str = self.detail["order_no"]
        return order_no

    @property
    def status(self) -> str:
        status: str = self.detail["status"]
        return status

    def say(self, text: str) -> None:
        self.story.say(self.tag, self.order_no, text)

    def show(self, detail: dict[str, Any]) -> dict[str, Any]:
        """Take a fresh copy of the order and tell what is new in it since the last one."""
        self.detail = detail
        news: list[tuple[datetime, str]] = []
        for entry in detail["history"]:
            key = ("history", entry["to_status"], entry["at"])
            if key not in self._told:
                self._told.add(key)
                news.append((datetime.fromisoformat(entry["at"]), _transition(entry)))
        shipment = detail.get("shipment") or {}
        for event in shipment.get("events", []):
            key = ("tracking", event["status"], event["occurred_at"])
            if key not in self._told:
                self._told.add(key)
                news.append((datetime.fromisoformat(event["occurred_at"]), _tracking(event)))
        # In the order things happened: the carrier's "delivered" before the order's DELIVERED.
        for _, text in sorted(news, key=lambda item: item[0]):
            self.say(text)
        return detail

    async def refresh(self) -> dict[str, Any]:
        return self.show(await self.api.get(WATCHER, f"/orders/{self.order_no}"))

    async def until(self, *statuses: str, within: float, waiting_for: str) -> dict[str, Any]:
        """Poll until the order is in one of ``statuses``; :class:`Stuck` after ``within`` s."""
        deadline = time.monotonic() + within
        while True:
            detail = await self.refresh()
            if detail["status"] in statuses:
                return detail
            if time.monotonic() >= deadline:
                raise Stuck(
                    f"{self.order_no} is still {detail['status']} after {within:.0f}s of waiting "
                    f"for {waiting_for}; look at {self.story.workflow_link(self.order_no)}"
                )
            await asyncio.sleep(POLL_SECONDS)


def _transition(entry: dict[str, Any]) -> str:
    if entry["from_status"] is None:
        text = f"is {entry['to_status']}"
    else:
        text = f"{entry['from_status']} → {entry['to_status']}"
    if entry["actor"] != "system":
        text += f" by {entry['actor']}"
    if entry["reason"]:
        text += f": {entry['reason']}"
    return text


def _tracking(event: dict[str, Any]) -> str:
    text = f"carrier reports {event['status']}"
    if event["location"]:
        text += f" at {event['location']}"
    if event["detail"]:
        text += f" ({event['detail']})"
    return text


def money(amount: Decimal | str) -> str:
    return f"{Decimal(amount):,.2f} CNY"


def count(number: int, noun: str) -> str:
    """``1 level``, ``2 levels``."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def rate(units_per_hour: str) -> str:
    """A line's capacity as the API gives it (``"60.00"``), without the trailing zeros."""
    return f"{Decimal(units_per_hour).normalize():f} units/h"
