"""Creating, changing, deactivating and deleting customers, products (with their dated price
list) and production lines. Each change is audited in the hash chain in the transaction that
makes it; the caller's request owns that transaction and this module commits it.

Nothing an order points at is deleted: a delete is refused (409) while any order names the
customer, product or line, and deactivating is the way to retire it. Deactivating never
touches open orders: they go on, and new orders for an inactive customer or product are
rejected at validation, and no new work is booked on an inactive line.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from api import fulfilment, schemas
from api.errors import Conflict, InvalidRequest, NotFound
from api.schemas.master_data import (
    CustomerCreate,
    CustomerUpdate,
    PriceCreate,
    ProductCreate,
    ProductionLineCreate,
    ProductionLineUpdate,
    ProductUpdate,
    RoutingStepCreate,
)
from db.audit import append_audit
from db.models import (
    Customer,
    Order,
    OrderLine,
    Product,
    ProductionLine,
    ProductPrice,
    RoutingStep,
    User,
    WorkOrder,
)
from db.prices import entry_day
from domain.statuses import TERMINAL


async def audit_change(
    session: AsyncSession, actor: User, kind: str, action: str, key: str, changes: dict[str, Any]
) -> None:
    """One audit row for a master-data change: what (``kind``, ``key``), how, and the fields."""
    await append_audit(
        session,
        kind=kind,
        actor=actor.username,
        order_no=None,
        payload={"action": action, "key": key, "changes": changes},
        at=datetime.now(UTC),
    )


def changed_fields(body: BaseModel) -> dict[str, Any]:
    """The fields the caller sent, as JSON, for the row and its audit entry."""
    return body.model_dump(mode="json", exclude_unset=True)


async def _flush_or_conflict(session: AsyncSession, conflict: str) -> None:
    """Write what is pending; a key another request took meanwhile, or a row something still
    refers to, is a 409 with nothing written."""
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise Conflict(conflict) from None


def _open_orders() -> Any:
    return Order.status.not_in([status.value for status in TERMINAL])


# --------------------------------------------------------------------------------- customers


async def create_customer(
    session: AsyncSession, actor: User, body: CustomerCreate
) -> schemas.CustomerPublic:
    duplicate = f"a customer with code {body.code} already exists"
    if await session.scalar(select(Customer.id).where(Customer.code == body.code)):
        raise Conflict(duplicate)
    fields = changed_fields(body)
    customer = Customer(
        code=body.code,
        name=body.name,
        credit_limit=body.credit_limit,
        risk=body.risk,
        contacts=[contact.model_dump(exclude_none=True) for contact in body.contacts],
        notification_email=body.notification_email,
        active=True,
    )
    session.add(customer)
    await _flush_or_conflict(session, duplicate)
    await audit_change(session, actor, "customer", "create", body.code, fields)
    await session.commit()
    return schemas.CustomerPublic.model_validate(customer)


async def update_customer(
    session: AsyncSession, actor: User, customer_id: int, body: CustomerUpdate
) -> schemas.CustomerPublic:
    customer = await session.get(Customer, customer_id, with_for_update=True)
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist")
    fields = changed_fields(body)
    for name in fields:
        setattr(customer, name, getattr(body, name))
    if body.contacts is not None:
        customer.contacts = [contact.model_dump(exclude_none=True) for contact in body.contacts]
    await audit_change(session, actor, "customer", "update", customer.code, fields)
    await session.commit()
    return schemas.CustomerPublic.model_validate(customer)


async def delete_customer(session: AsyncSession, actor: User, customer_id: int) -> None:
    customer = await session.get(Customer, customer_id, with_for_update=True)
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist")
    open_count, any_count = (
        await session.execute(
            select(func.count().filter(_open_orders()), func.count()).where(
                Order.customer_id == customer_id
            )
        )
    ).one()
    if open_count:
        raise Conflict(
            f"customer {customer.code} has {open_count} open order(s) and cannot be deleted; "
            "deactivate it instead"
        )
    if any_count or await session.scalar(select(User.id).where(User.customer_id == customer_id)):
        raise Conflict(
            f"customer {customer.code} has orders or users on record and cannot be deleted; "
            "deactivate it instead"
        )
    await session.delete(customer)
    await _flush_or_conflict(
        session, f"customer {customer.code} is referred to and cannot be deleted; deactivate it"
    )
    await audit_change(session, actor, "customer", "delete", customer.code, {})
    await session.commit()


# ---------------------------------------------------------------------------------- products


async def _check_lines(session: AsyncSession, codes: list[str]) -> None:
    if len(set(codes)) != len(codes):
        raise InvalidRequest("line_codes names a line twice")
    known = set(
        await session.scalars(select(ProductionLine.code).where(ProductionLine.code.in_(codes)))
    )
    unknown = sorted(set(codes) - known)
    if unknown:
        raise InvalidRequest(f"no such production line: {', '.join(unknown)}")


def _routing(steps: list[RoutingStepCreate]) -> list[RoutingStep]:
    names = [step.name for step in steps]
    if len(set(names)) != len(names):
        raise InvalidRequest("the routing names a step twice; each step needs its own name")
    return [
        RoutingStep(seq=seq, name=step.name, minutes_per_unit=step.minutes_per_unit)
        for seq, step in enumerate(steps, start=1)
    ]


async def _product_public(session: AsyncSession, sku: str) -> schemas.ProductPublic:
    # Read back with the same code GET /products uses, so both answers agree.
    session.expunge_all()
    return (await fulfilment.products(session, with_alerts=True, sku=sku))[0]


async def create_product(
    session: AsyncSession, actor: User, body: ProductCreate
) -> schemas.ProductPublic:
    duplicate = f"a product with SKU {body.sku} already exists"
    if await session.get(Product, body.sku):
        raise Conflict(duplicate)
    await _check_lines(session, body.line_codes)
    product = Product(
        sku=body.sku,
        name=body.name,
        category=body.category,
        unit_price=body.unit_price,
        reorder_point=body.reorder_point,
        line_codes=list(body.line_codes),
        stock_on_hand=0,
        stock_reserved=0,
        active=True,
        routing=_routing(body.routing),
    )
    session.add(product)
    session.add(
        ProductPrice(
            sku=body.sku,
            effective_from=entry_day(datetime.now(UTC)),
            unit_price=body.unit_price,
            created_by=actor.username,
        )
    )
    await _flush_or_conflict(session, duplicate)
    await audit_change(session, actor, "product", "create", body.sku, changed_fields(body))
    await session.commit()
    return await _product_public(session, body.sku)


async def _locked_product(session: AsyncSession, sku: str) -> Product:
    product = (
        await session.scalars(
            select(Product)
            .where(Product.sku == sku)
            .options(selectinload(Product.routing))
            .with_for_update()
        )
    ).one_or_none()
    if product is None:
        raise NotFound(f"product {sku} does not exist")
    return product


async def update_product(
    session: AsyncSession, actor: User, sku: str, body: ProductUpdate
) -> schemas.ProductPublic:
    product = await _locked_product(session, sku)
    fields = changed_fields(body)
    if body.line_codes is not None:
        await _check_lines(session, body.line_codes)
        product.line_codes = list(body.line_codes)
    if body.routing is not None:
        # Work orders copied their steps when booked; a new routing applies to new ones.
        product.routing = _routing(body.routing)
        await session.flush()
    for name in ("name", "category", "reorder_point", "active"):
        if name in fields:
            setattr(product, name, fields[name])
    await audit_change(session, actor, "product", "update", sku, fields)
    await session.commit()
    return await _product_public(session, sku)


async def delete_product(session: AsyncSession, actor: User, sku: str) -> None:
    await _locked_product(session, sku)
    open_count, any_count = (
        await session.execute(
            select(func.count(func.distinct(Order.id)).filter(_open_orders()), func.count())
            .select_from(OrderLine)
            .join(Order, Order.id == OrderLine.order_id)
            .where(OrderLine.sku == sku)
        )
    ).one()
    if open_count:
        raise Conflict(
            f"product {sku} is on {open_count} open order(s) and cannot be deleted; "
            "deactivate it instead"
        )
    if any_count:
        raise Conflict(
            f"product {sku} is on orders on record and cannot be deleted; deactivate it instead"
        )
    try:
        await session.execute(delete(Product).where(Product.sku == sku))
    except IntegrityError:
        await session.rollback()
        raise Conflict(
            f"product {sku} has stock history and cannot be deleted; deactivate it instead"
        ) from None
    await audit_change(session, actor, "product", "delete", sku, {})
    await session.commit()


async def price_list(session: AsyncSession, sku: str) -> list[schemas.PricePublic]:
    if await session.get(Product, sku) is None:
        raise NotFound(f"product {sku} does not exist")
    rows = await session.scalars(
        select(ProductPrice)
        .where(ProductPrice.sku == sku)
        .order_by(ProductPrice.effective_from.desc())
    )
    return [schemas.PricePublic.model_validate(row) for row in rows]


async def add_price(
    session: AsyncSession, actor: User, sku: str, body: PriceCreate
) -> schemas.PricePublic:
    """A new entry of the price list; orders entered from its day on pay it. A day already
    passed is refused, so no order entered earlier changes price after the fact."""
    await _locked_product(session, sku)
    today = entry_day(datetime.now(UTC))
    if body.effective_from < today:
        raise InvalidRequest(
            f"a price takes effect today ({today}) or later; {body.effective_from} has passed"
        )
    duplicate = f"product {sku} already has a price from {body.effective_from}"
    if await session.get(ProductPrice, (sku, body.effective_from)):
        raise Conflict(duplicate)
    row = ProductPrice(
        sku=sku,
        effective_from=body.effective_from,
        unit_price=body.unit_price,
        created_by=actor.username,
    )
    session.add(row)
    await _flush_or_conflict(session, duplicate)
    await audit_change(session, actor, "price", "create", sku, changed_fields(body))
    await session.commit()
    await session.refresh(row)
    return schemas.PricePublic.model_validate(row)


# -------------------------------------------------------------------------- production lines


async def _line_public(session: AsyncSession, code: str) -> schemas.ProductionLinePublic:
    session.expunge_all()
    return (await fulfilment.production_lines(session, code))[0]


async def create_line(
    session: AsyncSession, actor: User, body: ProductionLineCreate
) -> schemas.ProductionLinePublic:
    duplicate = f"a production line with code {body.code} already exists"
    if await session.get(ProductionLine, body.code):
        raise Conflict(duplicate)
    session.add(
        ProductionLine(
            code=body.code, name=body.name, units_per_hour=body.units_per_hour, active=True
        )
    )
    await _flush_or_conflict(session, duplicate)
    await audit_change(session, actor, "production_line", "create", body.code, changed_fields(body))
    await session.commit()
    return await _line_public(session, body.code)


async def update_line(
    session: AsyncSession, actor: User, code: str, body: ProductionLineUpdate
) -> schemas.ProductionLinePublic:
    line = await session.get(ProductionLine, code, with_for_update=True)
    if line is None:
        raise NotFound(f"production line {code} does not exist")
    fields = changed_fields(body)
    for name in fields:
        setattr(line, name, getattr(body, name))
    await audit_change(session, actor, "production_line", "update", code, fields)
    await session.commit()
    return await _line_public(session, code)


async def delete_line(session: AsyncSession, actor: User, code: str) -> None:
    line = await session.get(ProductionLine, code, with_for_update=True)
    if line is None:
        raise NotFound(f"production line {code} does not exist")
    open_count, any_count = (
        await session.execute(
            select(func.count().filter(_open_orders()), func.count())
            .select_from(WorkOrder)
            .join(Order, Order.id == WorkOrder.order_id)
            .where(WorkOrder.line == code)
        )
    ).one()
    if open_count:
        raise Conflict(
            f"production line {code} has work for {open_count} open order(s) and cannot be "
            "deleted; deactivate it instead"
        )
    if any_count:
        raise Conflict(
            f"production line {code} has work orders on record and cannot be deleted; "
            "deactivate it instead"
        )
    makers = list(
        await session.scalars(select(Product.sku).where(Product.line_codes.contains([code])))
    )
    if makers:
        raise Conflict(
            f"production line {code} is named by product(s) {', '.join(makers[:5])}; take it "
            "off their line_codes first, or deactivate it"
        )
    await session.delete(line)
    await _flush_or_conflict(
        session, f"production line {code} is referred to and cannot be deleted; deactivate it"
    )
    await audit_change(session, actor, "production_line", "delete", code, {})
    await session.commit()
