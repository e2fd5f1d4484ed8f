"""Carrier adapters: how a shipment is booked with whoever carries the goods."""

from __future__ import annotations

import uuid
from typing import Protocol


class CarrierAdapter(Protocol):
    name: str

    async def book(self, order_no: str) -> str:
        """Book a shipment for the order and return its tracking number."""
        ...

    async def cancel(self, tracking_no: str) -> None:
        """Call off a booked shipment that will not be handed over."""
        ...


class BuiltinCarrier:
    """The default carrier: issues its own tracking numbers; tracking events reach the API."""

    name = "builtin"

    async def book(self, order_no: str) -> str:
        return "BC" + uuid.uuid4().hex[:12].upper()

    async def cancel(self, tracking_no: str) -> None:
        return None
