"""Stock routes: receipts and counts booked by hand, the movement ledger and its check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response, status

from api import stock
from api.deps import SessionDep, require_roles
from api.errors import Conflict, Forbidden, InvalidRequest, NotFound, Unauthorized, responses
from api.params import Cursor, PageLimit, RangeBound
from api.schemas import Page
from api.schemas.stock import (
    LedgerCheck,
    MovementKindName,
    Sku,
    StockAdjustmentCreate,
    StockAdjustmentPublic,
    StockMovementEntry,
    StockReceiptCreate,
    StockReceiptPublic,
)
from api.schemas.types import SingleLine
from db.models import User
from domain.roles import STAFF_ROLES, Role

router = APIRouter(prefix="/stock", tags=["stock"], responses=responses(Unauthorized, Forbidden))

# Goods come in through the warehouse (logistics) or ops. A count changes the books with no
# goods moving, so it is ops' alone: whoever receives goods cannot also write them off.
Receiver = Annotated[User, Depends(require_roles(Role.LOGISTICS, Role.OPS))]
Ops = Annotated[User, Depends(require_roles(Role.OPS))]
Staff = Annotated[User, Depends(require_roles(*sorted(STAFF_ROLES)))]


@router.post(
    "/receipts",
    status_code=status.HTTP_201_CREATED,
    response_model=StockReceiptPublic,
    responses=responses(NotFound, InvalidRequest),
    summary="Book a goods receipt",
)
async def receive_goods(
    body: StockReceiptCreate,
    user: Receiver,
    session: SessionDep,
    response: Response,
    idempotency_key: Annotated[
        SingleLine | None,
        Header(
            max_length=200,
            description="A string the client makes up for this receipt, e.g. a UUID. The same "
            "receipt sent again by the same user with the same key is booked once: the answer "
            "repeats it (header `Idempotent-Replayed: true`) with today's stock; the same key "
            "with another body answers 422.",
            examples=["2b1f0f7e-6a0c-4c56-9d1e-58b1f3c0a7d4"],
        ),
    ] = None,
) -> StockReceiptPublic:
    """Logistics or ops. Puts `quantity` units of the product on hand as a `receipt`
    movement with its `reference` (delivery note, purchase order), audited. The units are
    available at once to orders approved from now on; orders already in production keep their
    work orders (listed in `waiting_work_orders`) and are not given the units. A product back
    at or above its reorder point re-arms its low-stock alert.

    403: the caller is neither logistics nor ops. 404: no such product. 422: the body is not
    valid, or the `Idempotency-Key` was used for another receipt."""
    answer, booked = await stock.receive(session, user, body, idempotency_key)
    if not booked:
        response.headers["Idempotent-Replayed"] = "true"
    return answer


@router.post(
    "/adjustments",
    status_code=status.HTTP_201_CREATED,
    response_model=StockAdjustmentPublic,
    responses=responses(NotFound, Conflict, InvalidRequest),
    summary="Book a stock count",
)
async def adjust_to_count(
    body: StockAdjustmentCreate, user: Ops, session: SessionDep
) -> StockAdjustmentPublic:
    """Ops. Sets the product's on-hand to the units counted, booking the difference as a
    `count_gain` or `count_loss` movement with the reason; a count that agrees with the books
    moves nothing (`movement` null) and is still audited. Sending the same count twice leaves
    the same stock. A loss that leaves available stock below the reorder point raises the
    low-stock alert and tells ops and production.

    403: the caller is not ops. 404: no such product. 409: the count is below what orders
    hold reserved. 422: the body is not valid."""
    return await stock.adjust(session, user, body)


@router.get(
    "/movements",
    response_model=Page[StockMovementEntry],
    responses=responses(InvalidRequest),
    summary="The stock movement ledger",
)
async def list_movements(
    _: Staff,
    session: SessionDep,
    sku: Annotated[Sku | None, Query(description="Only this product's movements.")] = None,
    kind: Annotated[
        MovementKindName | None,
        Query(description="Only movements of this kind.", examples=["receipt"]),
    ] = None,
    from_: Annotated[
        RangeBound | None,
        Query(
            alias="from",
            description="Movements at or after this moment; a date alone means 00:00 UTC.",
            examples=["2026-12-01"],
        ),
    ] = None,
    to: Annotated[
        RangeBound | None,
        Query(description="Movements before this moment.", examples=["2026-12-02"]),
    ] = None,
    limit: PageLimit = 50,
    cursor: Cursor = None,
) -> Page[StockMovementEntry]:
    """Staff. Every change of stock, newest first: opening stock, receipts, counts, and what
    orders reserved, released, had made and shipped, each with its effect on on-hand and
    reserved, the order behind it or who booked it and why. Pass `next_cursor` back as
    `cursor`, with the same filters, for older ones. 403: a customer user. 422: a parameter
    is not valid, or `from` is not before `to`."""
    data, next_cursor = await stock.list_movements(
        session, sku=sku, kind=kind, from_=from_, to=to, limit=limit, cursor=cursor
    )
    return Page(data=data, next_cursor=next_cursor)


@router.get(
    "/ledger-check",
    response_model=LedgerCheck,
    responses=responses(NotFound),
    summary="Check stock against its movements",
)
async def check_ledger(
    _: Ops,
    session: SessionDep,
    sku: Annotated[Sku | None, Query(description="Check only this product.")] = None,
) -> LedgerCheck:
    """Ops. Recomputes each product's on-hand (opening + receipts + count gains + produced -
    count losses - shipped) and reserved (reserved - released - shipped) from its movements
    and lists every product whose row says otherwise. `balanced` is true when none does.
    403: the caller is not ops. 404: `sku` names no product."""
    return await stock.check_ledger(session, sku=sku)
