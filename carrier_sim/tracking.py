"""Tracking events after a hand-over: what happens to a parcel, and posting it to the API.

Each handed-over shipment gets one asyncio task that walks its route a step at a time and posts
every event, signed the way the API's carrier webhook expects (over the time of posting and the
body). Posting retries on connection
errors and 5xx (the API may be restarting) but gives up on 4xx, which no retry would change.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
import zlib
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Literal

import httpx

from carrier_sim.settings import SimulatorSettings
from carrier_sim.shipments import PostedEvent, Shipment, ShipmentStatus

log = logging.getLogger("carrier_sim")

EventStatus = Literal["in_transit", "out_for_delivery", "delivered", "exception"]

SIGNATURE_HEADER = "X-Carrier-Signature"
TIMESTAMP_HEADER = "X-Carrier-Timestamp"
DESTINATION_CITIES = ("Hamburg", "Rotterdam", "Lyon", "Milan", "Warsaw", "Vienna")
# With duplicates on, every third handed-over shipment (the first included, so even a short
# demo shows it) has its in_transit event arrive after out_for_delivery.
LATE_IN_TRANSIT_EVERY = 3
MAX_BACKOFF_SECONDS = 8.0
POST_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Leg:
    """One planned event on a parcel's route."""

    status: EventStatus
    location: str | None
    detail: str | None = None


@dataclass(frozen=True)
class TrackingEvent:
    tracking_no: str
    status: EventStatus
    location: str | None
    occurred_at: datetime
    detail: str | None

    def body(self) -> bytes:
        """The webhook body; a redelivery sends these same bytes, as a real carrier would."""
        payload = {
            "tracking_no": self.tracking_no,
            "status": self.status,
            "location": self.location,
            "occurred_at": self.occurred_at.isoformat(),
            "detail": self.detail,
        }
        return json.dumps(payload, separators=(",", ":")).encode()


def signed_headers(body: bytes, secret: str, now: float) -> dict[str, str]:
    """The headers of one post: ``X-Carrier-Timestamp`` (unix seconds of ``now``) and
    ``X-Carrier-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">``, the scheme
    the API verifies; made afresh for every post, a redelivery included, since the API refuses
    a timestamp more than 5 minutes old.

    Written out here rather than imported from the API: the simulator plays an outside party
    that only knows the documented scheme, and the tests check it against the API's verifier.
    """
    timestamp = str(int(now))
    signed = timestamp.encode() + b"." + body
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest(),
    }


def plan_route(tracking_no: str, *, with_exception: bool) -> list[Leg]:
    """The events a parcel goes through; a failed first attempt adds an exception leg."""
    city = DESTINATION_CITIES[zlib.crc32(tracking_no.encode()) % len(DESTINATION_CITIES)]
    legs = [Leg("in_transit", "Shanghai hub"), Leg("out_for_delivery", f"{city} depot")]
    if with_exception:
        legs.append(Leg("exception", f"{city} depot", "recipient not available"))
    legs.append(Leg("delivered", "recipient's dock"))
    return legs


class Tracker:
    """Runs the tracking schedules; an async context manager so shutdown stops them all."""

    def __init__(self, settings: SimulatorSettings) -> None:
        self._settings = settings
        self._tasks: set[asyncio.Task[None]] = set()
        self._http: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Tracker:
        self._http = httpx.AsyncClient(timeout=POST_TIMEOUT_SECONDS)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def start(self, shipment: Shipment, handed_over_count: int) -> None:
        """Begin the events of the ``handed_over_count``-th shipment handed over."""
        settings = self._settings
        with_exception = (
            settings.exception_every > 0 and handed_over_count % settings.exception_every == 0
        )
        late_in_transit = settings.duplicates and handed_over_count % LATE_IN_TRANSIT_EVERY == 1
        legs = plan_route(shipment.tracking_no, with_exception=with_exception)
        self._spawn(self._follow(shipment, legs, late_in_transit=late_in_transit))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("tracking schedule failed", exc_info=task.exception())

    async def _follow(self, shipment: Shipment, legs: list[Leg], *, late_in_transit: bool) -> None:
        held_back: TrackingEvent | None = None
        for leg in legs:
            await asyncio.sleep(self._settings.step_seconds)
            event = TrackingEvent(
                shipment.tracking_no, leg.status, leg.location, datetime.now(UTC), leg.detail
            )
            if leg.status == "delivered":
                shipment.status = ShipmentStatus.DELIVERED
            if late_in_transit and leg.status == "in_transit":
                # Happened now, reported later: the API must order events by occurred_at.
                held_back = event
                continue
            await self._deliver(shipment, event)
            if held_back is not None:
                await self._deliver(shipment, held_back)
                held_back = None

    async def _deliver(
        self, shipment: Shipment, event: TrackingEvent, *, redelivery: bool = False
    ) -> None:
        response_status, attempts = await self._post(event)
        shipment.events_posted.append(
            PostedEvent(event.status, event.occurred_at, response_status, attempts, redelivery)
        )
        if self._settings.duplicates and not redelivery:
            self._spawn(self._redeliver_later(shipment, event))

    async def _redeliver_later(self, shipment: Shipment, event: TrackingEvent) -> None:
        await asyncio.sleep(self._settings.step_seconds / 2)
        await self._deliver(shipment, event, redelivery=True)

    async def _post(self, event: TrackingEvent) -> tuple[int | None, int]:
        """Post one event: the last HTTP status (None if never reached) and the attempts made."""
        if self._http is None:
            raise RuntimeError("the tracker is not running; use it as an async context manager")
        body = event.body()
        url = self._settings.events_url
        what = f"{event.status} for {event.tracking_no}"
        delay = self._settings.retry_backoff
        status: int | None = None
        for attempt in range(1, self._settings.post_attempts + 1):
            headers = signed_headers(body, self._settings.secret, time.time())
            try:
                response = await self._http.post(url, content=body, headers=headers)
            except httpx.TransportError as error:
                status, reason = None, str(error) or type(error).__name__
            else:
                status = response.status_code
                if status < 300:
                    log.info("posted %s: %s", what, status)
                    return status, attempt
                if status < 500:
                    log.warning("the API refused %s: %s %s", what, status, response.text[:200])
                    return status, attempt
                reason = f"HTTP {status}"
            if attempt < self._settings.post_attempts:
                log.warning("posting %s failed (%s); retrying in %.1fs", what, reason, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF_SECONDS)
        attempts = self._settings.post_attempts
        log.error("gave up posting %s to %s after %d attempts", what, url, attempts)
        return status, attempts
