"""Order routes: thin wrappers that authenticate, check the role, then call a service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Response, status
from fastapi.responses import StreamingResponse

from api import (
    delegations,
    order_limits,
    order_lists,
    order_records,
    schemas,
    services,
    visibility,
)
from api.deps import CurrentUser, SessionDep, SettingsDep, TemporalDep, require_roles
from api.errors import (
    AppError,
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    Unauthorized,
    responses,
)
from api.params import Cursor, OrderListParams, PageLimit
from api.schemas.types import OrderNo, SingleLine
from db.models import User
from domain.roles import APPROVER_ROLES, Role
from logs import bind_order_no
from workflows.messages import ActionRequest, DecisionRequest, ProductionReport
from workflows.order import OrderWorkflow

router = APIRouter(prefix="/orders", tags=["orders"], responses=responses(Unauthorized))

ACTION_ERRORS = responses(Forbidden, NotFound, Conflict, InvalidRequest)

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
)
async def create_order(
    body: schemas.OrderCreate,
    user: Sales,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: Annotated[SingleLine | None, Header(max_length=200)] = None,
) -> schemas.OrderView:
    """Enter an order; the same ``Idempotency-Key`` again answers with the same order."""
    viewer = visibility.viewer_of(user)
    await order_limits.ensure_total_fits(session, body)
    order, created = await services.create_order(
        session, temporal, settings, user, body, idempotency_key
    )
    bind_order_no(order.order_no)
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return await order_records.order_detail(session, viewer, order.order_no)


@router.get("", response_model=schemas.OrderListPageView, responses=responses(Forbidden))
async def list_orders(
    user: CurrentUser,
    session: SessionDep,
    query: OrderListParams,
    limit: PageLimit = 50,
    cursor: Cursor = None,
) -> schemas.OrderListPageView:
    """Orders from PostgreSQL, filtered and sorted (newest entered first unless ``sort`` says
    otherwise); pass ``next_cursor`` back, with the same filters and sort, for the next page.
    A customer user gets its own orders, each as ``CustomerOrderListItem``."""
    return await order_lists.list_orders(
        session, visibility.viewer_of(user), query, limit=limit, cursor=cursor
    )


class CsvResponse(StreamingResponse):
    media_type = "text/csv"


def _json_errors(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """The refusals of a route that answers CSV: they still come as JSON, in the one shape
    (without this, OpenAPI would document them as the route's CSV)."""
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    return {error.status_code: {"description": error.kind, "content": body} for error in errors}


# Declared before "/{order_no}" and without a slash, so "/orders.csv" is never an order number.
@router.get(
    ".csv",
    response_class=CsvResponse,
    responses={
        200: {
            "description": "A header row, then one row per order.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **_json_errors(Unauthorized, Forbidden, InvalidRequest),
    },
)
async def export_orders(
    user: CurrentUser, session: SessionDep, query: OrderListParams
) -> CsvResponse:
    """Every order the list shows with the same filters and sort, as CSV (at most 50,000: more
    answers 422). A cell that would start with ``=``, ``+``, ``-`` or ``@`` starts with a
    quote, so a spreadsheet shows it rather than running it."""
    viewer = visibility.viewer_of(user)
    await order_lists.ensure_exportable(session, viewer, query)
    return CsvResponse(
        order_lists.csv_lines(session, viewer, query),
        headers={"Content-Disposition": 'attachment; filename="orders.csv"'},
    )


@router.get("/{order_no}", response_model=schemas.OrderView, responses=responses(NotFound))
async def get_order(order_no: OrderNo, user: CurrentUser, session: SessionDep) -> schemas.OrderView:
    """The whole order for staff (``OrderPublic``); for its customer's users the customer's
    view (``CustomerOrderPublic``): lines, total, status, shipment and tracking, and the
    history without internal actors or reasons."""
    return await order_records.order_detail(session, visibility.viewer_of(user), order_no)


@router.get(
    "/{order_no}/history", response_model=schemas.HistoryPageView, responses=responses(NotFound)
)
async def get_history(
    order_no: OrderNo, user: CurrentUser, session: SessionDep
) -> schemas.HistoryPageView:
    """Every transition; a customer user gets statuses and times, naming only its own people
    (``CustomerTransitionPublic``)."""
    order = await order_records.find_order(session, user, order_no)
    return await order_records.order_history(session, user, order)


async def _update_and_show(
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


@router.post("/{order_no}/decisions", response_model=schemas.OrderView, responses=ACTION_ERRORS)
async def decide(
    order_no: OrderNo,
    body: schemas.DecisionCreate,
    user: Approver,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> schemas.OrderView:
    """Approve or reject the level under review; a rejection needs a comment. A delegate
    decides in the delegator's role, and the decision records on whose behalf."""
    request = DecisionRequest(
        services.actor_of(user),
        body.decision,
        body.comment,
        delegated_roles=await delegations.delegated_roles(
            session, user.username, datetime.now(UTC)
        ),
    )
    return await _update_and_show(
        session, temporal, settings, user, order_no, OrderWorkflow.decide, request
    )


@router.post("/{order_no}/cancel", response_model=schemas.OrderView, responses=ACTION_ERRORS)
async def cancel(
    order_no: OrderNo,
    body: schemas.ReasonBody,
    user: Canceller,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> schemas.OrderView:
    """Cancel before shipping; what the order had set in motion is undone."""
    request = ActionRequest(services.actor_of(user), body.reason)
    return await _update_and_show(
        session, temporal, settings, user, order_no, OrderWorkflow.cancel, request
    )


@router.post("/{order_no}/hold", response_model=schemas.OrderView, responses=ACTION_ERRORS)
async def hold(
    order_no: OrderNo,
    body: schemas.ReasonBody,
    user: Ops,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> schemas.OrderView:
    """Pause the order where it is; review timers stop counting while it is on hold."""
    request = ActionRequest(services.actor_of(user), body.reason)
    return await _update_and_show(
        session, temporal, settings, user, order_no, OrderWorkflow.hold, request
    )


@router.post("/{order_no}/resume", response_model=schemas.OrderView, responses=ACTION_ERRORS)
async def resume(
    order_no: OrderNo,
    body: schemas.OptionalReasonBody,
    user: Ops,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> schemas.OrderView:
    """Return an order on hold to the status it left."""
    request = ActionRequest(services.actor_of(user), body.reason)
    return await _update_and_show(
        session, temporal, settings, user, order_no, OrderWorkflow.resume, request
    )


@router.post(
    "/{order_no}/production-events", response_model=schemas.OrderView, responses=ACTION_ERRORS
)
async def report_production(
    order_no: OrderNo,
    body: schemas.ProductionEventCreate,
    user: Production,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> schemas.OrderView:
    """Record a step started, or completed with good and scrap units (they add up to the units
    that entered the step). A step waits for the one before it: 409 otherwise. When every
    work order is done, the order is booked with the carrier."""
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
    return await _update_and_show(
        session, temporal, settings, user, order_no, OrderWorkflow.report_production, report
    )


@router.post("/{order_no}/dispatch", response_model=schemas.OrderView, responses=ACTION_ERRORS)
async def dispatch(
    order_no: OrderNo,
    user: Logistics,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> schemas.OrderView:
    """Hand the goods to the carrier: the order is SHIPPED and tracking goes live."""
    request = ActionRequest(services.actor_of(user), "handed to the carrier")
    return await _update_and_show(
        session, temporal, settings, user, order_no, OrderWorkflow.dispatch, request
    )


@router.post(
    "/{order_no}/confirm-delivery", response_model=schemas.OrderView, responses=ACTION_ERRORS
)
async def confirm_delivery(
    order_no: OrderNo,
    user: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> schemas.OrderView:
    """The customer (or sales on its behalf) confirms receipt: the order is COMPLETED."""
    request = ActionRequest(services.actor_of(user), "receipt confirmed")
    return await _update_and_show(
        session,
        temporal,
        settings,
        user,
        order_no,
        OrderWorkflow.confirm_delivery,
        request,
        check=lambda order: visibility.ensure_may_confirm_receipt(user, order.customer_id),
    )
