"""Analytics for staff: where orders spend their time, what comes in and goes out, how fast
approvers decide, whether deliveries keep the requested date, the order book now, and what
customers said of their completed orders.
Definitions in :mod:`api.analytics` and the README."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import analytics, feedback, overview
from api.deps import SessionDep, SettingsDep, require_roles
from api.errors import Forbidden, InvalidRequest, Unauthorized, responses
from api.report_period import DEFAULT_DAYS, Period, check_buckets
from api.schemas.analytics import (
    ApprovalsPublic,
    DeliveryPublic,
    OverviewPublic,
    StageDurationsPublic,
    ThroughputPublic,
)
from api.schemas.feedback import FeedbackReportPublic
from api.schemas.types import Id, SingleLine
from db.models import User
from domain.roles import STAFF_ROLES

router = APIRouter(
    prefix="/analytics",
    tags=["analytics"],
    responses=responses(Unauthorized, Forbidden, InvalidRequest),
)

Staff = Annotated[User, Depends(require_roles(*sorted(STAFF_ROLES)))]

_MOMENT = (
    "An ISO date (``2026-12-01``, midnight UTC) or a datetime with a time zone, from 2000 up "
    "to 2100."
)
From = Annotated[
    SingleLine | None,
    Query(
        alias="from",
        max_length=40,
        description=f"Start of the period, inclusive. {_MOMENT} Default: {DEFAULT_DAYS} days "
        "before ``to``.",
    ),
]
To = Annotated[
    SingleLine | None,
    Query(
        alias="to",
        max_length=40,
        description=f"End of the period, exclusive; a date includes that whole day. {_MOMENT} "
        "Default: now.",
    ),
]


def _sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    """The session factory, for a report that reads on several connections at once."""
    factory: async_sessionmaker[AsyncSession] = request.app.state.sessions
    return factory


Sessions = Annotated[async_sessionmaker[AsyncSession], Depends(_sessions)]


def _period(start: From = None, end: To = None) -> Period:
    return Period.of(start, end)


ReportPeriod = Annotated[Period, Depends(_period)]
OfCustomer = Annotated[Id | None, Query(description="Only this customer's orders.")]


@router.get(
    "/stage-durations",
    summary="Time spent in each status, and the bottleneck",
    response_model=StageDurationsPublic,
)
async def stage_durations(
    _: Staff,
    sessions: Sessions,
    period: ReportPeriod,
    customer_id: OfCustomer = None,
) -> StageDurationsPublic:
    """Staff (every role but customer).

    Time spent in each status (stays that began in the period; finished ones measured,
    unfinished ones counted as ``open``), the bottleneck stage, and the turnaround of each
    review level and the lead time of each production line."""
    return await analytics.stage_durations(sessions, period, customer_id)


@router.get(
    "/throughput", summary="Orders in and out per day or week", response_model=ThroughputPublic
)
async def throughput(
    _: Staff,
    session: SessionDep,
    period: ReportPeriod,
    bucket: Annotated[
        Literal["day", "week"], Query(description="Days, or weeks from Monday (UTC).")
    ] = "day",
) -> ThroughputPublic:
    """Staff (every role but customer).

    Orders entered, completed, rejected and cancelled per day or week, with the value
    entered and completed; every bucket of the period is present, empty ones as zeros."""
    check_buckets(period, bucket)
    return await analytics.throughput(session, period, bucket)


@router.get(
    "/approvals",
    summary="Approval turnaround per level and approver",
    response_model=ApprovalsPublic,
)
async def approvals(_: Staff, sessions: Sessions, period: ReportPeriod) -> ApprovalsPublic:
    """Staff (every role but customer).

    Turnaround per review level (from opening to decision, levels opened in the period)
    and per approver (decisions taken in the period), escalations, expiries and reminders,
    and the share of decisions taken by a delegate."""
    return await analytics.approvals(sessions, period)


@router.get(
    "/delivery",
    summary="On-time delivery against the requested date and the promise",
    response_model=DeliveryPublic,
)
async def delivery(
    _: Staff, session: SessionDep, period: ReportPeriod, customer_id: OfCustomer = None
) -> DeliveryPublic:
    """Staff (every role but customer).

    Deliveries in the period against the day the customer asked for: how many on time,
    the rate, and the late ones with how many days late (the most late first, up to 100).
    And against the promise: how many orders had promised dates, and how many were delivered
    on or before the latest promised date of their lines."""
    return await analytics.delivery(session, period, customer_id)


@router.get("/overview", summary="The order book now", response_model=OverviewPublic)
async def order_book(
    _: Staff, session: SessionDep, settings: SettingsDep, customer_id: OfCustomer = None
) -> OverviewPublic:
    """Staff (every role but customer).

    The order book now: orders and value per status, the orders waiting longest and on
    whom, escalated reviews, held orders (expired reviews, system faults) and open alerts
    (low stock now, faults and delays of open orders, and poor ratings for `FEEDBACK_WINDOW`
    after they were given). With `customer_id`: that customer's orders, and the alerts they
    raised."""
    return await overview.overview(session, settings.feedback_window, customer_id)


@router.get(
    "/feedback",
    summary="Customer ratings of completed orders",
    response_model=FeedbackReportPublic,
)
async def feedback_report(
    _: Staff, session: SessionDep, period: ReportPeriod, customer_id: OfCustomer = None
) -> FeedbackReportPublic:
    """Staff (every role but customer).

    Ratings customers gave in the period (by when they were given): how many, their mean,
    how many of each rating from 1 to 5, and the poor ones (2 or less) with the order, its
    customer, the comment and who entered the order (the newest first, up to 100)."""
    return await feedback.feedback_report(session, period, customer_id)
