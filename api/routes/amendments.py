"""Amendment routes: sales change an order under review; anyone who may see an order reads
its versions."""

from __future__ import annotations

from fastapi import APIRouter

from api import amendments, order_records, schemas
from api.deps import CurrentUser, SessionDep, SettingsDep, TemporalDep
from api.errors import NotFound, Unauthorized, responses
from api.routes.orders import (
    _ACTION_ERRORS_TEXT,
    ACTION_ERRORS,
    OrderNoPath,
    Sales,
    update_and_show,
)
from workflows.order import OrderWorkflow

router = APIRouter(prefix="/orders", tags=["orders"], responses=responses(Unauthorized))


@router.post(
    "/{order_no}/amendments",
    response_model=schemas.OrderView,
    responses=ACTION_ERRORS,
    summary="Amend an order",
    description=f"""Sales. Changes quantities or prices of lines, removes or adds lines, or
changes the requested delivery date or the notes, with a reason; the order is priced and
checked again (products sold, prices not above the list, the customer's credit for the new
total). The amendment makes the next version of the order (`GET .../versions` lists them with
a field-level diff) and re-opens exactly the review levels whose decisions no longer cover the
amended order: a level keeps its decision when the amended review asks the same role at the
same place and the order still fits the rule the decision was taken under, or nothing the
policy weighs grew. When every level's decision covers it, the order is approved at once.
An order is amended while it is `UNDER_REVIEW`.

403: the caller is not in sales. {_ACTION_ERRORS_TEXT} 422 also: a line that does not exist, a
product not sold, a price above the list, no credit for the new total, or nothing changed.""",
)
async def amend(
    order_no: OrderNoPath,
    body: schemas.AmendmentCreate,
    user: Sales,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> schemas.OrderView:
    request = amendments.amendment_request(user, body)
    return await update_and_show(
        session, temporal, settings, user, order_no, OrderWorkflow.amend, request
    )


@router.get(
    "/{order_no}/versions",
    response_model=list[schemas.OrderVersionPublic],
    responses=responses(NotFound),
    summary="List an order's versions",
    description="""Anyone who may see the order. Version 1 is the order as entered; each
amendment made the next one: who, why, when, the total after it, the field-level diff and what
it did to the review. The same diff is in the hash-chained audit (`kind` `amendment`).

404: no such order, or not one the caller may see.""",
)
async def list_versions(
    order_no: OrderNoPath, user: CurrentUser, session: SessionDep
) -> list[schemas.OrderVersionPublic]:
    await order_records.order_ref(session, user, order_no)
    return await amendments.versions(session, order_no)
