"""Customer feedback on a completed order: its customer rates it once; staff and the customer
read it. Rules in :mod:`api.feedback` and :mod:`domain.feedback`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from api import feedback
from api.deps import CurrentUser, SessionDep, SettingsDep, require_roles
from api.errors import Conflict, Forbidden, InvalidRequest, NotFound, Unauthorized, responses
from api.schemas.feedback import FeedbackCreate, FeedbackPublic, OrderFeedbackPublic
from api.schemas.types import OrderNo
from db.models import User
from domain.roles import Role

router = APIRouter(prefix="/orders", tags=["feedback"], responses=responses(Unauthorized))

CustomerUser = Annotated[User, Depends(require_roles(Role.CUSTOMER))]
OrderNoPath = Annotated[
    OrderNo,
    Path(
        description="The order's number, as orders and lists show it.", examples=["SO-2026-000123"]
    ),
]


@router.post(
    "/{order_no}/feedback",
    status_code=status.HTTP_201_CREATED,
    response_model=FeedbackPublic,
    responses=responses(Forbidden, NotFound, Conflict, InvalidRequest),
    summary="Rate a completed order",
)
async def give_feedback(
    order_no: OrderNoPath,
    body: FeedbackCreate,
    user: CustomerUser,
    session: SessionDep,
    settings: SettingsDep,
) -> FeedbackPublic:
    """The order's customer: a `rating` from 1 to 5 and an optional `comment`, once per
    order, for a COMPLETED order within `FEEDBACK_WINDOW` (default 30 days) of its
    completion. A rating of 2 or less notifies whoever entered the order, to follow it up,
    and raises a `poor_feedback` alert.

    403: the caller is not a customer user. 404: no such order, or another customer's.
    409: the order is archived (read-only), is not completed, its feedback window has
    closed, or it was rated already. 422: the body is not valid."""
    return await feedback.give_feedback(session, user, order_no, body, settings.feedback_window)


@router.get(
    "/{order_no}/feedback",
    response_model=OrderFeedbackPublic,
    responses=responses(NotFound),
    summary="An order's feedback",
)
async def read_feedback(
    order_no: OrderNoPath, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> OrderFeedbackPublic:
    """Staff, or the order's customer: the order's status, when it completed, until when it
    takes feedback (`open_until`), and the feedback once given (`null` before).

    404: no such order, or another customer's."""
    return await feedback.order_feedback(session, user, order_no, settings.feedback_window)
