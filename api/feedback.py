"""Customer feedback: a customer rates its completed order once, within the feedback window;
a poor rating tells whoever entered the order and raises an alert. Staff and the customer
read an order's feedback; staff read the feedback report.

Rules in :mod:`domain.feedback`. The order row is locked while feedback is given, so two
requests racing to rate one order take turns and the second is told it was given.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from activities.outbox import write_notice
from activities.records import OrderRow
from api.errors import Conflict
from api.order_records import OrderRef, ensure_not_archived, order_to_act_on
from api.report_period import Period
from api.schemas.feedback import (
    FeedbackCreate,
    FeedbackPublic,
    FeedbackReportPublic,
    OrderFeedbackPublic,
    PoorFeedback,
    RatingCount,
)
from db.audit import append_audit
from db.models import Alert, Customer, Order, OrderFeedback, StatusHistory, User
from domain.feedback import (
    HIGHEST_RATING,
    LOWEST_RATING,
    POOR_FEEDBACK_ALERT,
    POOR_RATING,
    feedback_refusal,
    is_poor,
    open_until,
)
from domain.notifications import poor_feedback_notice
from domain.statuses import OrderStatus

# The report lists this many poor ratings at most; its counts cover them all.
POOR_LIST_LIMIT = 100


def _completed_at() -> Any:
    """When the order was completed, as a column of its row."""
    return (
        select(func.max(StatusHistory.at))
        .where(
            StatusHistory.order_id == Order.id,
            StatusHistory.to_status == OrderStatus.COMPLETED.value,
        )
        .scalar_subquery()
        .label("completed_at")
    )


async def _given(session: AsyncSession, order_id: int, order_no: str) -> FeedbackPublic | None:
    row = await session.scalar(select(OrderFeedback).where(OrderFeedback.order_id == order_id))
    if row is None:
        return None
    return FeedbackPublic(
        order_no=order_no,
        rating=row.rating,
        comment=row.comment,
        given_by=row.given_by,
        given_at=row.given_at,
    )


async def order_feedback(
    session: AsyncSession, user: User, order_no: str, window: timedelta
) -> OrderFeedbackPublic:
    """Whether the order takes feedback, until when, and the feedback once given."""
    order = await order_to_act_on(session, user, order_no, _completed_at())
    return OrderFeedbackPublic(
        order_no=order.order_no,
        status=order.status,
        completed_at=order.completed_at,
        open_until=open_until(order.completed_at, window),
        feedback=await _given(session, order.id, order.order_no),
    )


async def give_feedback(
    session: AsyncSession, user: User, order_no: str, body: FeedbackCreate, window: timedelta
) -> FeedbackPublic:
    """Record the customer's rating of its completed order; a poor one (``POOR_RATING`` or
    less) notifies whoever entered the order and raises a ``poor_feedback`` alert, in the
    same transaction. 404 for another customer's order, 409 when the order does not take it
    (an archived order, like for every action, first)."""
    order = await order_to_act_on(session, user, order_no, _completed_at(), lock=True)
    ensure_not_archived(OrderRef(order.order_no, order.status, order.customer_id, order.archived))
    given = await _given(session, order.id, order.order_no)
    now = datetime.now(UTC)
    refusal = feedback_refusal(
        order.status, order.completed_at, now, window, already_given=given is not None
    )
    if refusal is not None:
        raise Conflict(refusal)
    feedback_id = await session.scalar(
        insert(OrderFeedback)
        .values(
            order_id=order.id,
            customer_id=order.customer_id,
            rating=body.rating,
            comment=body.comment,
            given_by=user.username,
            given_at=now,
        )
        .on_conflict_do_nothing(index_elements=["order_id"])
        .returning(OrderFeedback.id)
    )
    if feedback_id is None:
        raise Conflict("feedback on this order was already given; it is given once")
    if is_poor(body.rating):
        notice = poor_feedback_notice(order.order_no, body.rating, body.comment, order.created_by)
        await write_notice(session, notice, OrderRow(order.id, order.order_no, order.customer_id))
        await session.execute(
            insert(Alert)
            .values(
                key=f"{POOR_FEEDBACK_ALERT}:{order.order_no}",
                kind=POOR_FEEDBACK_ALERT,
                order_id=order.id,
                message=f"{order.order_no}: the customer rated it {body.rating} of 5",
                at=now,
            )
            .on_conflict_do_nothing(index_elements=["key"])
        )
    await append_audit(
        session,
        kind="feedback",
        actor=user.username,
        order_no=order.order_no,
        payload={"rating": body.rating, "comment": body.comment},
        at=now,
    )
    await session.commit()
    return FeedbackPublic(
        order_no=order.order_no,
        rating=body.rating,
        comment=body.comment,
        given_by=user.username,
        given_at=now,
    )


async def ratings_by_customer(
    session: AsyncSession, customer_ids: set[int]
) -> dict[int, tuple[int, float]]:
    """Per customer: how many ratings it gave and their mean (customers without any left out)."""
    rows = await session.execute(
        select(OrderFeedback.customer_id, func.count(), func.avg(OrderFeedback.rating))
        .where(OrderFeedback.customer_id.in_(customer_ids))
        .group_by(OrderFeedback.customer_id)
    )
    return {customer_id: (count, float(mean)) for customer_id, count, mean in rows}


async def feedback_report(
    session: AsyncSession, period: Period, customer_id: int | None
) -> FeedbackReportPublic:
    """Ratings given in the period (for one customer, with ``customer_id``): how many, their
    mean, how many of each, and the poor ones."""
    in_period = [OrderFeedback.given_at >= period.start, OrderFeedback.given_at < period.end]
    if customer_id is not None:
        in_period.append(OrderFeedback.customer_id == customer_id)
    rows = await session.execute(
        select(OrderFeedback.rating, func.count()).where(*in_period).group_by(OrderFeedback.rating)
    )
    counts: dict[int, int] = {rating: count for rating, count in rows}
    poor = await session.execute(
        select(
            Order.order_no,
            OrderFeedback.customer_id,
            Customer.code.label("customer_code"),
            OrderFeedback.rating,
            OrderFeedback.comment,
            OrderFeedback.given_at,
            Order.created_by,
        )
        .join(Order, Order.id == OrderFeedback.order_id)
        .join(Customer, Customer.id == OrderFeedback.customer_id)
        .where(*in_period, OrderFeedback.rating <= POOR_RATING)
        .order_by(OrderFeedback.given_at.desc(), Order.order_no)
        .limit(POOR_LIST_LIMIT)
    )
    total = sum(counts.values())
    points = sum(rating * count for rating, count in counts.items())
    return FeedbackReportPublic(
        from_=period.start,
        to=period.end,
        count=total,
        average_rating=points / total if total else None,
        distribution=[
            RatingCount(rating=rating, count=counts.get(rating, 0))
            for rating in range(LOWEST_RATING, HIGHEST_RATING + 1)
        ],
        poor=[PoorFeedback.model_validate(row, from_attributes=True) for row in poor],
    )
