"""Carrier adapters: how a shipment is booked with, handed to and called off at the carrier.

Every call may be repeated (an activity retried after a crash calls it again), so each one is
idempotent at the carrier: booking the same order twice returns the same tracking number.
"""

from __future__ import annotations

import hashlib
from typing import Protocol
from urllib.parse import quote

import httpx


class CarrierAdapter(Protocol):
    name: str

    async def book(self, order_no: str) -> str:
        """Book a shipment for the order and return its tracking number."""
        ...

    async def hand_over(self, tracking_no: str) -> None:
        """The goods left the warehouse with the carrier; tracking starts."""
        ...

    async def cancel(self, tracking_no: str) -> None:
        """Call off a booked shipment that will not be handed over."""
        ...


class BuiltinCarrier:
    """The default carrier: issues its own tracking numbers; tracking events reach the API
    from logistics staff or any carrier system that signs them."""

    name = "builtin"

    async def book(self, order_no: str) -> str:
        # Derived from the order, so a repeated booking yields the same number.
        return "BC" + hashlib.sha256(order_no.encode()).hexdigest()[:12].upper()

    async def hand_over(self, tracking_no: str) -> None:
        return None

    async def cancel(self, tracking_no: str) -> None:
        return None


class SimulatedCarrier:
    """The carrier simulator (``python -m carrier_sim``) over HTTP; it posts tracking events
    to the API by itself after a hand-over.

    Any failure raises, so the activity retries: each call is safe to repeat at the simulator.
    A client per call keeps the adapter free of event-loop and connection-pool lifetimes.
    """

    name = "simulator"

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout

    async def book(self, order_no: str) -> str:
        # The key names this booking, so a retried request cannot book a second shipment.
        headers = {"Idempotency-Key": f"book-{order_no}"}
        response = await self._post("/shipments", json={"order_no": order_no}, headers=headers)
        response.raise_for_status()
        tracking_no = response.json()["tracking_no"]
        if not isinstance(tracking_no, str) or not tracking_no:
            raise ValueError(f"no tracking number in the booking answer: {tracking_no!r}")
        return tracking_no

    async def hand_over(self, tracking_no: str) -> None:
        # Addressed by tracking number, so repeating it is harmless; no key needed.
        response = await self._post(f"/shipments/{quote(tracking_no, safe='')}/hand-over")
        response.raise_for_status()

    async def cancel(self, tracking_no: str) -> None:
        response = await self._post(f"/shipments/{quote(tracking_no, safe='')}/cancel")
        if response.status_code == httpx.codes.NOT_FOUND:
            # The carrier holds no such booking (never made, or lost with the simulator's
            # memory), so there is nothing to call off; raising would retry for ever.
            return
        # A second cancellation answers 200 as well; 409 (already handed over) must surface.
        response.raise_for_status()

    async def _post(
        self,
        path: str,
        *,
        json: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self._base_url, timeout=self._timeout) as client:
            return await client.post(path, json=json, headers=headers)
