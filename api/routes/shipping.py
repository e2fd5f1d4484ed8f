"""Shipping routes: logistics dispatches what is ready, line by line; the customer (or sales)
confirms receipt of what was delivered."""

from __future__ import annotations

from fastapi import APIRouter

from api import schemas, services, visibility
from api.deps import CurrentUser, SessionDep, SettingsDep, TemporalDep
from api.errors import Unauthorized, responses
from api.routes.orders import (
    _ACTION_ERRORS_TEXT,
    ACTION_ERRORS,
    Logistics,
    OrderNoPath,
    update_and_show,
)
from workflows.messages import ConfirmRequest, DispatchRequest
from workflows.order import OrderWorkflow

router = APIRouter(prefix="/orders", tags=["orders"], responses=responses(Unauthorized))


@router.post(
    "/{order_no}/dispatch",
    response_model=schemas.OrderView,
    responses=ACTION_ERRORS,
    summary="Hand goods that are ready to the carrier",
    description=f"""Logistics. A shipment with its own booking and tracking number goes to
the carrier: without `lines` (or a body) everything ready and not yet shipped, else exactly
those units, each at most what its line has ready and not yet shipped (422 otherwise). What
is ready ships while the order is IN_PRODUCTION or AWAITING_SHIPMENT; the rest is a backorder
that ships when ready; once every line shipped in full the order is SHIPPED. Carrier events
arrive per tracking number at `POST /carrier-events`. An order that booked its one shipment
before per-line fulfilment ships whole, without `lines`.

403: the caller is not logistics. {_ACTION_ERRORS_TEXT}""",
)
async def dispatch(
    order_no: OrderNoPath,
    user: Logistics,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    body: schemas.DispatchCreate | None = None,
) -> schemas.OrderView:
    body = body or schemas.DispatchCreate()
    reason = body.reason or "handed to the carrier"
    request = DispatchRequest(services.actor_of(user), reason, lines=body.shipment_lines())
    return await update_and_show(
        session, temporal, settings, user, order_no, OrderWorkflow.dispatch, request
    )


@router.post(
    "/{order_no}/confirm-delivery",
    response_model=schemas.OrderView,
    responses=ACTION_ERRORS,
    summary="Confirm receipt of delivered goods",
    description=f"""The order's customer, or sales on its behalf. Confirms receipt of every
delivered shipment not yet confirmed, or of the one named by its tracking number
(`{{"shipment": "<tracking_no>"}}`); a shipment not confirmed is confirmed by itself
`auto_confirm_after` (default 7 days) after its delivery. Once every line is delivered and
every shipment confirmed the order is COMPLETED. The body is optional.

403: the caller is neither the order's customer nor sales. 422: the order has no shipment
with that tracking number. {_ACTION_ERRORS_TEXT}""",
)
async def confirm_delivery(
    order_no: OrderNoPath,
    user: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    body: schemas.ConfirmDeliveryCreate | None = None,
) -> schemas.OrderView:
    tracking_no = body.shipment if body is not None else None
    request = ConfirmRequest(services.actor_of(user), "receipt confirmed", tracking_no=tracking_no)
    return await update_and_show(
        session,
        temporal,
        settings,
        user,
        order_no,
        OrderWorkflow.confirm_delivery,
        request,
        check=lambda order: visibility.ensure_may_confirm_receipt(user, order.customer_id),
    )
