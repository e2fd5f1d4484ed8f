"""Order routes: thin wrappers that authenticate, check the role, then call a service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response, status

from api import (
    delegations,
    order_limits,
    order_lists,
    order_records,
    order_templates,
    schemas,
    services,
    visibility,
)
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
from api.params import Cursor, IdempotencyKey, OrderListParams, PageLimit
from api.schemas.types import OrderNo
from db.models import User
from domain.roles import APPROVER_ROLES, Role
from logs import bind_order_no
from workflows.messages import (
    ActionRequest,
    DecisionRequest,
    ProductionReport,
)
from workflows.order import OrderWorkflow

router = APIRouter(prefix="/orders", tags=["orders"], responses=responses(Unauthorized))

ACTION_ERRORS = responses(
    Forbidden, NotFound, Conflict, InvalidRequest, TooManyRequests, Unavailable
)
# What every action on an order may answer besides its own refusals.
_ACTION_ERRORS_TEXT = (
    "404: no such order, or not one the caller may see. 409: the order's status does not "
    "allow this now, or the order is archived (read-only); `detail` names the status. 422: "
    "the body is not valid. 429 or 503 with "
    "`Retry-After`: the order is busy or cannot answer right now; nothing was changed unless "
    "`detail` says the request may still take effect, so read the order before trying again."
)

OrderNoPath = Annotated[
    OrderNo,
    Path(
        description="The order's number, as entered orders and lists show it.",
        examples=["SO-2026-000123"],
    ),
]

Sales = Annotated[User, Depends(require_roles(Role.SALES))]
Approver = Annotated[User, Depends(require_roles(*APPROVER_ROLES))]
Canceller = Annotated[User, Depends(require_roles(Role.SALES, Role.OPS))]
Ops = Annotated[User, Depends(require_roles(Role.OPS))]
Production = Annotated[User, Depends(require_roles(Role.PRODUCTION))]
Logistics = Annotated[User, Depends(require_roles(Role.LOGISTICS))]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.OrderView,
    responses=responses(Forbidden, InvalidRequest),
    summary="Enter an order",
)
async def create_order(
    body: schemas.OrderCreate,
    user: Sales,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> schemas.OrderView:
    """Sales. Enters the order for a customer and starts its workflow: it is validated
    (customer active, credit limit, products known) and goes to review, or is rejected
    with reasons. Leave out `unit_price` to take the list price. With `template_id` the
    order is the template's (customer, lines), `lines` and `requested_delivery_date` given
    in the body taking their place. It answers (201) once the
    order is validated: `UNDER_REVIEW` with its review levels, or `REJECTED` with every
    reason in `rejection_reasons`.

    403: the caller is not in sales. 422: the body is not valid, the customer does not
    exist, the template does not exist, the total does not fit, or the `Idempotency-Key` was
    used for another order."""
    viewer = visibility.viewer_of(user)
    entry = await order_templates.resolve_entry(session, body)
    await order_limits.ensure_total_fits(session, entry)
    order, created = await services.create_order(
        session,
        temporal,
        settings,
        user,
        entry,
        idempotency_key,
        request_hash=services.entry_hash(body),
    )
    bind_order_no(order.order_no)
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return await order_records.order_detail(session, viewer, order.order_no)


@router.get(
    "",
    response_model=schemas.OrderListPageView,
    responses=responses(Forbidden),
    summary="List orders",
)
async def list_orders(
    user: CurrentUser,
    session: SessionDep,
    query: OrderListParams,
    limit: PageLimit = 50,
    cursor: Cursor = None,
) -> schemas.OrderListPageView:
    """Any signed-in user: staff see every order, a customer user its own orders, each as
    `CustomerOrderListItem`. Filtered and sorted (newest entered first unless `sort` says
    otherwise), from PostgreSQL; pass `next_cursor` back as `cursor`, with the same filters
    and sort, for the next page, until it is `null`. 403: a customer used a filter on how
    orders are reviewed (`escalated`, `waiting_role`). 422: a parameter is not valid."""
    return await order_lists.list_orders(
        session, visibility.viewer_of(user), query, limit=limit, cursor=cursor
    )


@router.get(
    "/{order_no}",
    response_model=schemas.OrderView,
    responses=responses(NotFound),
    summary="Read an order",
)
async def get_order(
    order_no: OrderNoPath, user: CurrentUser, session: SessionDep
) -> schemas.OrderView:
    """Staff, or the order's customer. Staff get the whole order (`OrderPublic`): lines,
    review levels and decisions, production, stock movements, shipment and tracking, and
    every transition. The customer's users get the customer's view (`CustomerOrderPublic`):
    lines, total, status, shipment and tracking, and the history without internal actors or
    reasons. Sections not reached yet are `null`. 404: no such order, or another
    customer's."""
    return await order_records.order_detail(session, visibility.viewer_of(user), order_no)


@router.get(
    "/{order_no}/history",
    response_model=schemas.HistoryPageView,
    responses=responses(NotFound),
    summary="An order's status history",
)
async def get_history(
    order_no: OrderNoPath, user: CurrentUser, session: SessionDep
) -> schemas.HistoryPageView:
    """Staff, or the order's customer. Every transition, oldest first: from, to, who and
    why. A customer user gets statuses and times, naming only its own people
    (`CustomerTransitionPublic`). 404: no such order, or another customer's."""
    order = await order_records.find_order(session, user, order_no)
    return await order_records.order_history(session, user, order)


async def update_and_show(
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    user: User,
    order_no: str,
    update: Any,
    request: Any,
    check: Callable[[order_records.OrderRef], None] | None = None,
) -> schemas.OrderView:
    viewer = visibility.viewer_of(user)
    order = await order_records.order_ref(session, user, order_no)
    order_records.ensure_not_archived(order)
    if check is not None:
        check(order)
    # The connection goes back to the pool while the workflow works: a slow update never
    # starves other requests of connections.
    await session.close()
    try:
        await services.send_update(temporal, settings, order_no, order.status, update, request)
    except services.WorkflowConflict as conflict:
        shown = await order_records.order_ref(session, user, order_no)
        raise services.conflict_or_catching_up(conflict, shown.status) from None
    # The update answered once its effect was written; show the fresh record.
    return await order_records.order_detail(session, viewer, order_no)


@router.post(
    "/{order_no}/decisions",
    response_model=schemas.OrderView,
    responses=ACTION_ERRORS,
    summary="Approve or reject the level under review",
    description=f"""Approvers: the role of the level open now, the role it escalated to
(director escalates to ops), or a delegate of someone in that role. A delegate decides in
the delegator's role, and the decision records on whose behalf. A rejection needs a
`comment` and ends the order as REJECTED; the last approval needed moves it to APPROVED.

403: the caller's role is not the level's, the caller entered the order, or already decided
another level of it (separation of duties). {_ACTION_ERRORS_TEXT}""",
)
async def decide(
    order_no: OrderNoPath,
    body: schemas.DecisionCreate,
    user: Approver,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> schemas.OrderView:
    request = DecisionRequest(
        services.actor_of(user),
        body.decision,
        body.comment,
        delegated_roles=await delegations.delegated_roles(
            session, user.username, datetime.now(UTC)
        ),
    )
    return await update_and_show(
        session, temporal, settings, user, order_no, OrderWorkflow.decide, request
    )


@router.post(
    "/{order_no}/cancel",
    response_model=schemas.OrderView,
    responses=ACTION_ERRORS,
    summary="Cancel an order before it ships",
    description=f"""Sales or ops. Cancels the order with a `reason`; what it had set in
motion is undone (stock reservations released, work orders and the carrier booking
cancelled). Once some of it shipped, only the backorder is cancelled: what has not shipped is
undone the same way, and the order goes to SHIPPED with what shipped (`backorder_cancelled_at`),
on to delivery and completion. Once SHIPPED an order can no longer be cancelled (409).

403: the caller is neither sales nor ops. {_ACTION_ERRORS_TEXT}""",
)
async def cancel(
    order_no: OrderNoPath,
    body: schemas.ReasonBody,
    user: Canceller,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> schemas.OrderView:
    request = ActionRequest(services.actor_of(user), body.reason)
    return await update_and_show(
        session, temporal, settings, user, order_no, OrderWorkflow.cancel, request
    )


@router.post(
    "/{order_no}/hold",
    response_model=schemas.OrderView,
    responses=ACTION_ERRORS,
    summary="Put an order on hold",
    description=f"""Ops. Pauses the order where it is (ON_HOLD, with the `reason`); review
timers stop counting while it is on hold, and `held_from` keeps the status it resumes to.

403: the caller is not ops. {_ACTION_ERRORS_TEXT}""",
)
async def hold(
    order_no: OrderNoPath,
    body: schemas.ReasonBody,
    user: Ops,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> schemas.OrderView:
    request = ActionRequest(services.actor_of(user), body.reason)
    return await update_and_show(
        session, temporal, settings, user, order_no, OrderWorkflow.hold, request
    )


@router.post(
    "/{order_no}/resume",
    response_model=schemas.OrderView,
    responses=ACTION_ERRORS,
    summary="Resume an order on hold",
    description=f"""Ops. Returns an order on hold to the status it left (`held_from`); for
an order a system fault held, the failed step is tried again. The `reason` is optional.

403: the caller is not ops. {_ACTION_ERRORS_TEXT}""",
)
async def resume(
    order_no: OrderNoPath,
    body: schemas.OptionalReasonBody,
    user: Ops,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> schemas.OrderView:
    request = ActionRequest(services.actor_of(user), body.reason)
    return await update_and_show(
        session, temporal, settings, user, order_no, OrderWorkflow.resume, request
    )


@router.post(
    "/{order_no}/production-events",
    response_model=schemas.OrderView,
    responses=ACTION_ERRORS,
    summary="Report shop-floor progress on a work order",
    description=f"""Production. Records a step `started`, `progress` (some units out good or
scrapped) or `completed`; good and scrap units of a step add up to the units that entered
it. A step waits for the one before it (409 otherwise). When every work order is done the
goods are booked with the carrier and the order moves to AWAITING_SHIPMENT.

403: the caller is not production. {_ACTION_ERRORS_TEXT}""",
)
async def report_production(
    order_no: OrderNoPath,
    body: schemas.ProductionEventCreate,
    user: Production,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> schemas.OrderView:
    report = ProductionReport(
        event_id=services.new_event_id(),
        reported_by=user.username,
        step=body.step,
        event=body.event,
        good_qty=body.good_qty,
        scrap_qty=body.scrap_qty,
        note=body.note,
        work_order_no=body.work_order_no,
    )
    return await update_and_show(
        session, temporal, settings, user, order_no, OrderWorkflow.report_production, report
    )
