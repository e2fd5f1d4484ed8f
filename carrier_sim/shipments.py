"""The carrier's ledger of shipments and the rules for booking, handing over and cancelling.

Every operation may be repeated by the order worker (its activities retry), so each one is
idempotent: a repeated booking returns the same tracking number, a repeated hand-over does not
start a second round of tracking events, and a repeated cancellation changes nothing. Calls are
counted all the same, so tests can see that a retry reached the carrier.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from carrier_sim.settings import SimulatorSettings

if TYPE_CHECKING:
    from carrier_sim.tracking import Tracker

log = logging.getLogger("carrier_sim")


class ShipmentStatus(StrEnum):
    BOOKED = "booked"
    HANDED_OVER = "handed_over"
    CANCELLED = "cancelled"
    DELIVERED = "delivered"


class ShipmentError(Exception):
    """A refusal the simulator answers with ``status_code`` and the message as detail."""

    status_code = 400


class UnknownShipment(ShipmentError):
    status_code = 404


class ShipmentConflict(ShipmentError):
    status_code = 409


class IdempotencyKeyReused(ShipmentError):
    status_code = 422


@dataclass
class PostedEvent:
    """One attempt to deliver a tracking event to the API, as the carrier recorded it."""

    status: str
    occurred_at: datetime
    # None when the API could not be reached at all.
    response_status: int | None
    attempts: int
    redelivery: bool = False


@dataclass
class Shipment:
    order_no: str
    tracking_no: str
    status: ShipmentStatus = ShipmentStatus.BOOKED
    booked_calls: int = 1
    hand_over_calls: int = 0
    cancel_calls: int = 0
    events_posted: list[PostedEvent] = field(default_factory=list)

    @property
    def cancelled(self) -> bool:
        return self.status is ShipmentStatus.CANCELLED

    @property
    def handed_over(self) -> bool:
        return self.status in (ShipmentStatus.HANDED_OVER, ShipmentStatus.DELIVERED)


def new_tracking_no() -> str:
    """``SIM`` and ten uppercase hex digits, random like a real carrier's numbers."""
    return "SIM" + secrets.token_hex(5).upper()


class ShipmentDesk:
    """The carrier's counter: one shipment per order, held in memory."""

    def __init__(self, settings: SimulatorSettings, tracker: Tracker) -> None:
        self._settings = settings
        self._tracker = tracker
        self._by_tracking_no: dict[str, Shipment] = {}
        self._by_order_no: dict[str, Shipment] = {}
        self._order_by_key: dict[str, str] = {}
        self._handed_over_count = 0

    def all(self) -> list[Shipment]:
        return list(self._by_tracking_no.values())

    def get(self, tracking_no: str) -> Shipment:
        shipment = self._by_tracking_no.get(tracking_no)
        if shipment is None:
            raise UnknownShipment(f"no shipment {tracking_no}")
        return shipment

    def book(self, order_no: str, idempotency_key: str | None) -> tuple[Shipment, bool]:
        """The order's shipment and whether this call created it."""
        if idempotency_key is not None:
            # As with payment APIs: a key names one request; reusing it for another order is a
            # caller bug that must not silently return someone else's shipment.
            known = self._order_by_key.setdefault(idempotency_key, order_no)
            if known != order_no:
                raise IdempotencyKeyReused(
                    f"Idempotency-Key {idempotency_key!r} was used for order {known}"
                )
        shipment = self._by_order_no.get(order_no)
        if shipment is not None:
            shipment.booked_calls += 1
            return shipment, False
        tracking_no = new_tracking_no()
        while tracking_no in self._by_tracking_no:
            tracking_no = new_tracking_no()
        shipment = Shipment(order_no=order_no, tracking_no=tracking_no)
        self._by_order_no[order_no] = shipment
        self._by_tracking_no[tracking_no] = shipment
        log.info("booked %s for order %s", tracking_no, order_no)
        return shipment, True

    def hand_over(self, tracking_no: str) -> Shipment:
        """Take the goods; the first hand-over starts the tracking events, later ones do not."""
        shipment = self.get(tracking_no)
        shipment.hand_over_calls += 1
        if shipment.cancelled:
            raise ShipmentConflict(f"shipment {tracking_no} was cancelled")
        if shipment.handed_over:
            return shipment
        shipment.status = ShipmentStatus.HANDED_OVER
        self._handed_over_count += 1
        log.info("%s handed over (order %s)", tracking_no, shipment.order_no)
        self._tracker.start(shipment, self._handed_over_count)
        return shipment

    async def cancel(self, tracking_no: str) -> Shipment:
        """Call off a booking that was not handed over; cancelling twice is the same as once."""
        shipment = self.get(tracking_no)
        # Counted on arrival, so a test can see the call landed while the answer is still due.
        shipment.cancel_calls += 1
        if self._settings.cancel_delay:
            await asyncio.sleep(self._settings.cancel_delay)
        # Decided after the delay: a hand-over may have arrived in the meantime.
        if shipment.handed_over:
            raise ShipmentConflict(f"shipment {tracking_no} was already handed over")
        if not shipment.cancelled:
            shipment.status = ShipmentStatus.CANCELLED
            log.info("%s cancelled (order %s)", tracking_no, shipment.order_no)
        return shipment
