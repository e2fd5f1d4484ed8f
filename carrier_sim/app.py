"""The simulator's HTTP API: what the order worker's carrier adapter calls, plus inspection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from carrier_sim.settings import SimulatorSettings
from carrier_sim.shipments import Shipment, ShipmentDesk, ShipmentError, ShipmentStatus
from carrier_sim.tracking import Tracker


class BookingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_no: str = Field(min_length=1, max_length=64)


class BookingPublic(BaseModel):
    tracking_no: str


class PostedEventPublic(BaseModel):
    status: str
    occurred_at: datetime
    response_status: int | None
    attempts: int
    redelivery: bool


class ShipmentPublic(BaseModel):
    order_no: str
    tracking_no: str
    status: ShipmentStatus
    booked_calls: int
    hand_over_calls: int
    cancel_calls: int
    cancelled: bool
    events_posted: list[PostedEventPublic]

    @classmethod
    def of(cls, shipment: Shipment) -> ShipmentPublic:
        return cls(
            order_no=shipment.order_no,
            tracking_no=shipment.tracking_no,
            status=shipment.status,
            booked_calls=shipment.booked_calls,
            hand_over_calls=shipment.hand_over_calls,
            cancel_calls=shipment.cancel_calls,
            cancelled=shipment.cancelled,
            events_posted=[
                PostedEventPublic(
                    status=posted.status,
                    occurred_at=posted.occurred_at,
                    response_status=posted.response_status,
                    attempts=posted.attempts,
                    redelivery=posted.redelivery,
                )
                for posted in shipment.events_posted
            ],
        )


class Problem(BaseModel):
    detail: str


def _desk(request: Request) -> ShipmentDesk:
    desk: ShipmentDesk = request.app.state.desk
    return desk


DeskDep = Annotated[ShipmentDesk, Depends(_desk)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {status.HTTP_404_NOT_FOUND: {"model": Problem}}
CONFLICT: dict[int | str, dict[str, Any]] = {status.HTTP_409_CONFLICT: {"model": Problem}}

router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.post(
    "/shipments",
    status_code=status.HTTP_201_CREATED,
    responses={status.HTTP_422_UNPROCESSABLE_CONTENT: {"model": Problem}},
)
async def book_shipment(
    body: BookingCreate,
    desk: DeskDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> BookingPublic:
    """Book the order's shipment: 201 the first time, 200 with the same number afterwards."""
    shipment, created = desk.book(body.order_no, idempotency_key)
    if not created:
        response.status_code = status.HTTP_200_OK
    return BookingPublic(tracking_no=shipment.tracking_no)


@router.get("/shipments")
async def list_shipments(desk: DeskDep) -> list[ShipmentPublic]:
    return [ShipmentPublic.of(shipment) for shipment in desk.all()]


@router.get("/shipments/{tracking_no}", responses=NOT_FOUND)
async def get_shipment(tracking_no: str, desk: DeskDep) -> ShipmentPublic:
    return ShipmentPublic.of(desk.get(tracking_no))


@router.post("/shipments/{tracking_no}/hand-over", responses={**NOT_FOUND, **CONFLICT})
async def hand_over_shipment(tracking_no: str, desk: DeskDep) -> ShipmentPublic:
    """Take the goods and start posting tracking events; 409 if the booking was cancelled."""
    return ShipmentPublic.of(desk.hand_over(tracking_no))


@router.post("/shipments/{tracking_no}/cancel", responses={**NOT_FOUND, **CONFLICT})
async def cancel_shipment(tracking_no: str, desk: DeskDep) -> ShipmentPublic:
    """Call off the booking (after CARRIER_SIM_CANCEL_DELAY); 409 once handed over."""
    return ShipmentPublic.of(await desk.cancel(tracking_no))


async def _shipment_error(request: Request, error: Exception) -> JSONResponse:
    status_code = error.status_code if isinstance(error, ShipmentError) else 500
    return JSONResponse({"detail": str(error)}, status_code=status_code)


def create_app(settings: SimulatorSettings | None = None) -> FastAPI:
    """A simulator with its own in-memory ledger; tracking schedules stop when the app does."""
    settings = settings or SimulatorSettings()
    tracker = Tracker(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with tracker:
            yield

    app = FastAPI(title="Carrier simulator", lifespan=lifespan)
    app.state.settings = settings
    app.state.desk = ShipmentDesk(settings, tracker)
    app.add_exception_handler(ShipmentError, _shipment_error)
    app.include_router(router)
    return app
