"""Stock booked by hand and the ledger behind it: goods receipts, stock counts, the movements
list and the check that every product row is what its movements add up to.

Receipts and counts go through the same ``move_stock`` as the movements orders make, so the
row lock, the table's checks and the low-stock alert (raised once per dip, re-armed when
stock is back) work the same for both. The request owns the transaction: the movement, the
product, an alert and its notice, and the audit row commit together or not at all.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from activities.outbox import write_notice
from activities.stock import move_stock
from api.errors import Conflict, InvalidRequest, NotFound
from api.paging import cursor_moment, decode_sorted_cursor, encode_sorted_cursor
from api.schemas.stock import (
    LedgerCheck,
    LedgerDifference,
    StockAdjustmentCreate,
    StockAdjustmentPublic,
    StockLevel,
    StockMovementEntry,
    StockReceiptCreate,
    StockReceiptPublic,
    WaitingWorkOrder,
)
from db.audit import append_audit
from db.models import Order, Product, StockMovement, User, WorkOrder
from domain.notifications import NoticeRequest, NotificationEvent
from domain.roles import Role
from domain.stock import EFFECTS, MovementKind, count_movement

_SORT = "-at"


# ---------------------------------------------------------------------------- receipts


async def receive(
    session: AsyncSession, user: User, body: StockReceiptCreate, idempotency_key: str | None
) -> tuple[StockReceiptPublic, bool]:
    """Book goods received; ``(receipt, booked)``, ``booked`` false when the same
    Idempotency-Key of the same user booked it before (then nothing moves again)."""
    username = user.username
    key = _receipt_key(username, idempotency_key)
    product = await _locked_product(session, body.sku)
    was_low = product.low_stock_since is not None
    booked = await move_stock(
        session,
        product,
        key=key,
        kind=MovementKind.RECEIPT,
        quantity=body.quantity,
        order_id=None,
        actor=username,
        note=body.reference,
    )
    movement = await session.scalar(select(StockMovement).where(StockMovement.key == key))
    assert movement is not None
    if not booked:
        # The row lock on the product serialises retries, so the first one is committed here.
        if (movement.sku, movement.quantity, movement.note, movement.actor) != (
            body.sku,
            body.quantity,
            body.reference,
            username,
        ):
            raise InvalidRequest(
                f"Idempotency-Key {idempotency_key!r} was used for another receipt "
                f"({movement.quantity} × {movement.sku}, {movement.note!r}); use a new key "
                "for a new receipt"
            )
    else:
        await _tell_if_newly_low(session, product, was_low, key)
        await append_audit(
            session,
            kind="stock_receipt",
            actor=username,
            order_no=None,
            payload={
                "sku": product.sku,
                "quantity": body.quantity,
                "reference": body.reference,
                "movement": key,
                "on_hand_after": product.stock_on_hand,
            },
            at=movement.at,
        )
    answer = StockReceiptPublic(
        movement=_entry(movement, None),
        stock=_level(product),
        waiting_work_orders=await _waiting_work_orders(session, product.sku),
    )
    await session.commit()
    return answer, booked


def _receipt_key(username: str, idempotency_key: str | None) -> str:
    """A receipt's movement key: the caller's Idempotency-Key (hashed with the username, so
    two people's keys never meet and the key fits the column), else a fresh one."""
    if idempotency_key is None:
        return f"receipt:{uuid.uuid4().hex}"
    digest = hashlib.sha256(f"{username}\n{idempotency_key}".encode()).hexdigest()
    return f"receipt:{digest}"


async def _waiting_work_orders(session: AsyncSession, sku: str) -> list[WaitingWorkOrder]:
    rows = await session.execute(
        select(Order.order_no, WorkOrder.work_order_no, WorkOrder.quantity)
        .join(Order, Order.id == WorkOrder.order_id)
        .where(WorkOrder.sku == sku, WorkOrder.status == "open")
        .order_by(WorkOrder.planned_start.nulls_last(), WorkOrder.id)
    )
    return [
        WaitingWorkOrder(order_no=order_no, work_order_no=wo_no, quantity=quantity)
        for order_no, wo_no, quantity in rows
    ]


# ---------------------------------------------------------------------------- counts


async def adjust(
    session: AsyncSession, user: User, body: StockAdjustmentCreate
) -> StockAdjustmentPublic:
    """Set the books to a stock count: a gain or a loss of the difference. A count below what
    orders hold reserved is refused (409): those units are promised, and only cancelling or
    shipping the orders gives them back."""
    username = user.username
    product = await _locked_product(session, body.sku)
    on_hand_before = product.stock_on_hand
    if body.counted_quantity < product.stock_reserved:
        raise Conflict(
            f"{product.sku}: counted {body.counted_quantity}, but {product.stock_reserved} are "
            "reserved for orders; those units are promised, so a count cannot take them away"
        )
    was_low = product.low_stock_since is not None
    change = count_movement(on_hand_before, body.counted_quantity)
    movement: StockMovement | None = None
    key = f"count:{uuid.uuid4().hex}"
    if change is not None:
        kind, quantity = change
        await move_stock(
            session,
            product,
            key=key,
            kind=kind,
            quantity=quantity,
            order_id=None,
            actor=username,
            note=body.reason,
        )
        movement = await session.scalar(select(StockMovement).where(StockMovement.key == key))
        await _tell_if_newly_low(session, product, was_low, key)
    # A count that agrees with the books moves nothing, but is still on record.
    await append_audit(
        session,
        kind="stock_count",
        actor=username,
        order_no=None,
        payload={
            "sku": product.sku,
            "counted": body.counted_quantity,
            "on_hand_before": on_hand_before,
            "reason": body.reason,
            "movement": key if movement is not None else None,
        },
        at=movement.at if movement is not None else datetime.now(UTC),
    )
    answer = StockAdjustmentPublic(
        sku=product.sku,
        counted_quantity=body.counted_quantity,
        on_hand_before=on_hand_before,
        difference=body.counted_quantity - on_hand_before,
        movement=_entry(movement, None) if movement is not None else None,
        stock=_level(product),
    )
    await session.commit()
    return answer


# ---------------------------------------------------------------------------- shared


async def _locked_product(session: AsyncSession, sku: str) -> Product:
    product = await session.scalar(select(Product).where(Product.sku == sku).with_for_update())
    if product is None:
        raise NotFound(f"no product {sku}")
    return product


async def _tell_if_newly_low(
    session: AsyncSession, product: Product, was_low: bool, cause: str
) -> None:
    """Ops and production hear of a dip below the reorder point a booking caused, as they do
    when an order's reservation causes one (a receipt never does: it only adds)."""
    if was_low or product.low_stock_since is None:
        return
    subject = f"{product.sku} fell below its reorder point"
    await write_notice(
        session,
        NoticeRequest(
            key=f"{cause}:{NotificationEvent.LOW_STOCK.value}",
            event=NotificationEvent.LOW_STOCK.value,
            order_no=None,
            subject=subject,
            body=f"{subject}: {product.available} available, reorder point "
            f"{product.reorder_point}.",
            data={"sku": product.sku, "available": product.available},
            roles=[Role.OPS.value, Role.PRODUCTION.value],
        ),
    )


def _level(product: Product) -> StockLevel:
    return StockLevel(
        sku=product.sku,
        stock_on_hand=product.stock_on_hand,
        stock_reserved=product.stock_reserved,
        stock_available=product.available,
        reorder_point=product.reorder_point,
        low_stock=product.available < product.reorder_point,
    )


def _entry(movement: StockMovement, order_no: str | None) -> StockMovementEntry:
    on_hand_sign, reserved_sign = EFFECTS[MovementKind(movement.kind)]
    return StockMovementEntry(
        id=movement.id,
        at=movement.at,
        sku=movement.sku,
        kind=movement.kind,  # the table's check keeps it one of MovementKindName
        quantity=movement.quantity,
        on_hand_change=on_hand_sign * movement.quantity,
        reserved_change=reserved_sign * movement.quantity,
        order_no=order_no,
        actor=movement.actor,
        note=movement.note,
    )


# ---------------------------------------------------------------------------- the ledger


async def list_movements(
    session: AsyncSession,
    *,
    sku: str | None,
    kind: str | None,
    from_: datetime | None,
    to: datetime | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[StockMovementEntry], str | None]:
    """Newest first, keyset paged on (at, id); ``from_`` included, ``to`` excluded."""
    if from_ is not None and to is not None and from_ >= to:
        raise InvalidRequest("`from` must be before `to`")
    query = select(StockMovement, Order.order_no).outerjoin(
        Order, Order.id == StockMovement.order_id
    )
    if sku is not None:
        query = query.where(StockMovement.sku == sku)
    if kind is not None:
        query = query.where(StockMovement.kind == kind)
    if from_ is not None:
        query = query.where(StockMovement.at >= from_)
    if to is not None:
        query = query.where(StockMovement.at < to)
    if cursor:
        moment_text, last_id = decode_sorted_cursor(cursor, _SORT)
        moment = cursor_moment(moment_text)
        query = query.where(
            (StockMovement.at < moment)
            | ((StockMovement.at == moment) & (StockMovement.id < last_id))
        )
    rows = (
        await session.execute(
            query.order_by(StockMovement.at.desc(), StockMovement.id.desc()).limit(limit + 1)
        )
    ).all()
    page = [_entry(movement, order_no) for movement, order_no in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        next_cursor = encode_sorted_cursor(_SORT, last.at.isoformat(), last.id)
    return page, next_cursor


async def check_ledger(session: AsyncSession, *, sku: str | None) -> LedgerCheck:
    """Rebuild every product's on hand and reserved from its movements and list the products
    whose row says otherwise. One read, one snapshot: a booking committed meanwhile is either
    in both or in neither."""
    on_hand_change = case(
        *[(StockMovement.kind == kind.value, effect[0]) for kind, effect in EFFECTS.items()],
        else_=0,
    )
    reserved_change = case(
        *[(StockMovement.kind == kind.value, effect[1]) for kind, effect in EFFECTS.items()],
        else_=0,
    )
    query = (
        select(
            Product.sku,
            Product.stock_on_hand,
            Product.stock_reserved,
            func.coalesce(func.sum(StockMovement.quantity * on_hand_change), 0),
            func.coalesce(func.sum(StockMovement.quantity * reserved_change), 0),
        )
        .outerjoin(StockMovement, StockMovement.sku == Product.sku)
        .group_by(Product.sku)
        .order_by(Product.sku)
    )
    if sku is not None:
        query = query.where(Product.sku == sku)
    rows = (await session.execute(query)).all()
    differences = [
        LedgerDifference(
            sku=row_sku,
            on_hand=on_hand,
            on_hand_from_movements=int(rebuilt_on_hand),
            reserved=reserved,
            reserved_from_movements=int(rebuilt_reserved),
        )
        for row_sku, on_hand, reserved, rebuilt_on_hand, rebuilt_reserved in rows
        if (on_hand, reserved) != (rebuilt_on_hand, rebuilt_reserved)
    ]
    if sku is not None and not rows:
        raise NotFound(f"no product {sku}")
    return LedgerCheck(
        balanced=not differences, products_checked=len(rows), differences=differences
    )
