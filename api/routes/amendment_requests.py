"""Amendment request routes: the order's customer asks for an amendment, sales accept or
refuse it, the customer may withdraw it; staff and the customer read them. Rules in
:mod:`api.amendment_requests`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, status
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import amendment_requests, amendments, schemas
from api.deps import CurrentUser, SessionDep, SettingsDep, TemporalDep, require_roles
from api.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    TooManyRequests,
    Unauthorized,
    Unavailable,
    responses,
)
from api.routes.orders import OrderNoPath, Sales, update_and_show
from api.schemas.types import Id
from db.models import User
from domain.roles import Role
from workflows.order import OrderWorkflow

router = APIRouter(prefix="/orders", tags=["orders"], responses=responses(Unauthorized))

CustomerUser = Annotated[User, Depends(require_roles(Role.CUSTOMER))]
RequestIdPath = Annotated[
    Id,
    Path(description="The request's `id`, as the order's request list shows it.", examples=[7]),
]
_CLOSED = "409: the request is closed already (accepted, refused or withdrawn)."


async def _sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    factory: async_sessionmaker[AsyncSession] = request.app.state.sessions
    return factory


# A decision holds the request's row lock in a transaction of its own.
Sessions = Annotated[async_sessionmaker[AsyncSession], Depends(_sessions)]


@router.post(
    "/{order_no}/amendment-requests",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.AmendmentRequestPublic,
    responses=responses(Forbidden, NotFound, Conflict, InvalidRequest),
    summary="Ask for an amendment of my order",
    description=f"""The order's customer. Asks for an amendment, in the body sales would send
to `POST .../amendments` (a reason, lines to change, remove or add, the requested delivery
date, the notes). Nothing changes on the order: the request is kept `open` and sales are told;
they accept it (it then amends the order) or refuse it, and the customer is told either way.
An order takes requests while it takes amendments (`UNDER_REVIEW`, `IN_PRODUCTION`,
`AWAITING_SHIPMENT`), and has at most
{amendment_requests.MAX_OPEN_REQUESTS} open ones.

403: the caller is not a customer user. 404: no such order, or another customer's. 409: the
order is not in a status that takes amendments, is archived, or has too many open requests.
422: the body is not valid.""",
)
async def request_amendment(
    order_no: OrderNoPath,
    body: schemas.AmendmentCreate,
    user: CustomerUser,
    session: SessionDep,
) -> schemas.AmendmentRequestPublic:
    return await amendment_requests.request_amendment(session, user, order_no, body)


@router.get(
    "/{order_no}/amendment-requests",
    response_model=list[schemas.AmendmentRequestPublic],
    responses=responses(NotFound),
    summary="List an order's amendment requests",
    description="""Staff, or the order's customer. Every amendment request of the order,
oldest first, with what it asks, its status, who decided it and why, and the order version an
accepted one made (`GET .../versions` shows that version's diff). A customer sees who decided
only for a request its own people withdrew.

404: no such order, or another customer's.""",
)
async def list_requests(
    order_no: OrderNoPath, user: CurrentUser, session: SessionDep
) -> list[schemas.AmendmentRequestPublic]:
    return await amendment_requests.list_requests(session, user, order_no)


@router.post(
    "/{order_no}/amendment-requests/{request_id}/accept",
    response_model=schemas.AmendmentRequestPublic,
    responses=responses(
        Forbidden, NotFound, Conflict, InvalidRequest, TooManyRequests, Unavailable
    ),
    summary="Accept a customer's amendment request",
    description=f"""Sales. Sends what the customer asked as an amendment, exactly as
`POST .../amendments` does (priced and checked again, re-opening the review levels whose
decisions no longer cover it), with a reason that names the request and, if given, why sales
accept. The request becomes `accepted` with the order `version` it made, and the customer is
told. When the order refuses the amendment (409: its status no longer takes it; 422: a price,
credit or line problem, or a delivery date now past) the answer is that refusal and the
request stays open, to accept later or refuse. A request is accepted once: a second accept,
even at the same moment, answers 409 and makes no second version.

403: the caller is not in sales. 404: no such order, or no such request of it. {_CLOSED}
429 or 503 with `Retry-After`: the order is busy or cannot answer now; the request stays open
(if the amendment still took effect, the next accept finds the version it made).""",
)
async def accept_request(
    order_no: OrderNoPath,
    request_id: RequestIdPath,
    body: schemas.AmendmentRequestAccept,
    user: Sales,
    session: SessionDep,
    sessions: Sessions,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> schemas.AmendmentRequestPublic:
    username = user.username
    async with amendment_requests.open_request(sessions, user, order_no, request_id) as asked:
        version = await asked.version_made()
        if version is None:
            amendment = amendments.amendment_request(user, asked.amendment(body.reason))
            await update_and_show(
                session, temporal, settings, user, order_no, OrderWorkflow.amend, amendment
            )
            version = await asked.version_made()
        if version is None:  # the update answers once its version is written
            raise Unavailable(
                f"order {order_no} answered but shows no version for the request yet; try again",
                retry_after=1,
            )
        await asked.close("accepted", username, body.reason, version=version)
    return asked.public(customer_view=False)


@router.post(
    "/{order_no}/amendment-requests/{request_id}/refuse",
    response_model=schemas.AmendmentRequestPublic,
    responses=responses(Forbidden, NotFound, Conflict, InvalidRequest),
    summary="Refuse a customer's amendment request",
    description=f"""Sales. Closes the request as `refused` with a `reason`, which the
customer is told; the order stays as it is.

403: the caller is not in sales. 404: no such order, or no such request of it. {_CLOSED}
422: the body is not valid (a reason is required).""",
)
async def refuse_request(
    order_no: OrderNoPath,
    request_id: RequestIdPath,
    body: schemas.AmendmentRequestRefuse,
    user: Sales,
    sessions: Sessions,
) -> schemas.AmendmentRequestPublic:
    async with amendment_requests.open_request(sessions, user, order_no, request_id) as asked:
        await asked.close("refused", user.username, body.reason)
    return asked.public(customer_view=False)


@router.post(
    "/{order_no}/amendment-requests/{request_id}/withdraw",
    response_model=schemas.AmendmentRequestPublic,
    responses=responses(Forbidden, NotFound, Conflict, InvalidRequest),
    summary="Withdraw my amendment request",
    description=f"""The order's customer. Closes its open request as `withdrawn`, with an
optional reason; sales need not answer it any more.

403: the caller is not a customer user. 404: no such order, another customer's, or no such
request of it. {_CLOSED} 422: the body is not valid.""",
)
async def withdraw_request(
    order_no: OrderNoPath,
    request_id: RequestIdPath,
    body: schemas.AmendmentRequestWithdraw,
    user: CustomerUser,
    sessions: Sessions,
) -> schemas.AmendmentRequestPublic:
    async with amendment_requests.open_request(sessions, user, order_no, request_id) as asked:
        await asked.close("withdrawn", user.username, body.reason)
    return asked.public(customer_view=True)
