"""Tracking events from the carrier: HMAC-signed by the carrier, or posted by logistics."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, status

from api import schemas, services
from api.deps import SessionDep, SettingsDep, TemporalDep, oauth2_scheme, user_from_token
from api.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    Unauthorized,
    responses,
)
from domain.roles import Role
from domain.signatures import timestamped_signature_refusal
from domain.statuses import TERMINAL, OrderStatus
from workflows.messages import CarrierUpdate
from workflows.order import OrderWorkflow

router = APIRouter(tags=["logistics"])

SIGNATURE_HEADER = "X-Carrier-Signature"
TIMESTAMP_HEADER = "X-Carrier-Timestamp"


async def carrier_or_logistics(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    signature: Annotated[
        str | None,
        Header(
            alias=SIGNATURE_HEADER,
            description='From the carrier: `sha256=<hex HMAC-SHA256 of "<timestamp>.<raw '
            'body>">` with the shared carrier secret. Leave out when sending a logistics '
            "user's bearer token instead.",
            examples=["sha256=3f1c9a0e5b7d2c4f6a8e0b1d3c5f7a9e2b4d6f8a0c2e4b6d8f0a1c3e5b7d9f1a"],
        ),
    ] = None,
    timestamp: Annotated[
        str | None,
        Header(
            alias=TIMESTAMP_HEADER,
            description="From the carrier, with the signature: when it signed, in Unix "
            "seconds; refused when more than 5 minutes from this server's clock.",
            examples=["1764600000"],
        ),
    ] = None,
) -> None:
    """Who may post an event, checked before the body is read as an event, so that a caller
    who may not is told only that (401, 403), never what its body got wrong."""
    if signature is not None:
        refusal = timestamped_signature_refusal(
            await request.body(),
            signature,
            timestamp,
            settings.carrier_webhook_secret,
            now=time.time(),
        )
        if refusal is not None:
            raise Unauthorized(refusal)
        return
    user = await user_from_token(token, session, settings)
    if Role.LOGISTICS.value not in user.roles:
        raise Forbidden("carrier events come signed by the carrier or from logistics")


@router.post(
    "/carrier-events",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=schemas.Accepted,
    responses=responses(Unauthorized, Forbidden, NotFound, Conflict, InvalidRequest),
    dependencies=[Depends(carrier_or_logistics)],
    summary="Report a tracking event from the carrier",
)
async def carrier_event(
    body: schemas.CarrierEventCreate,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
) -> schemas.Accepted:
    """The carrier, signed: `X-Carrier-Timestamp: <unix seconds>` and
    `X-Carrier-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`, refused
    when the timestamp is more than 5 minutes from now; or a logistics user with a bearer
    token. The event is taken for later processing (202) and lands on the order's tracking
    timeline: `delivered` moves a shipped order to DELIVERED; `exception` puts it ON_HOLD
    with the carrier's `detail` until ops resumes or cancels. Repeated and late events only
    fill in the timeline, which is ordered by `occurred_at`.

    401: the signature or timestamp is wrong, or there is neither a signature nor a token.
    403: a signed-in user who is not logistics. 404: no shipment has this `tracking_no`.
    409: the goods have not been handed to the carrier yet. Each shipment of an order that
    ships in several has its own tracking number, timeline and delivery. 422: the body is
    not valid, or `occurred_at` is before the order was entered. A refused event stores nothing."""
    order = await services.shipment_order(session, body.tracking_no)
    if order.archived_at is not None:
        raise Conflict(
            f"order {order.order_no} is archived ({order.status}): its tracking takes no events"
        )
    if OrderStatus(order.status) in TERMINAL:
        raise Conflict(f"order {order.order_no} is {order.status}: a closed order takes no events")
    if not services.takes_tracking_events(order) and not await services.shipment_handed_over(
        session, body.tracking_no
    ):
        raise Conflict(
            f"order {order.order_no} is {order.status}: tracking events are taken once the "
            "goods were handed to the carrier"
        )
    # The schema bounds occurred_at by the clock; only the order knows its earliest moment.
    if body.occurred_at < order.created_at:
        raise InvalidRequest(
            f"occurred_at {body.occurred_at.isoformat()} is before the order was entered "
            f"({order.created_at.isoformat()})"
        )
    await session.close()  # nothing more to read; the connection is not held for the signal
    update = CarrierUpdate(
        body.tracking_no, body.status, body.location, body.occurred_at, body.detail
    )
    await services.send_signal(temporal, settings, order, OrderWorkflow.carrier_event, update)
    return schemas.Accepted(detail=f"{body.status} for {body.tracking_no} accepted")
