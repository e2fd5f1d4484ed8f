"""``python -m db.seed``: the demo data of the design, written only where it is missing.

Demo only: every demo user has the password ``demo-pass``.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from config import get_settings
from db.models import Customer, Product, ProductionLine, RoutingStep, User
from db.session import create_engine, create_session_factory
from domain.passwords import hash_password

DEMO_PASSWORD = "demo-pass"

CUSTOMERS = [
    # code, name, credit limit (CNY)
    ("ACME", "Acme Industrial Co.", Decimal("5000000")),
    ("GLOBEX", "Globex Trading Ltd.", Decimal("500000")),
    ("INITECH", "Initech Components", Decimal("50000")),
]

# code, name, units per hour. LINE-1 comes with the schema; seeding fills in the rest.
PRODUCTION_LINES = [
    ("LINE-1", "Assembly line 1", Decimal("60")),
    ("LINE-2", "Assembly line 2", Decimal("30")),
    ("CELL-M", "Machining cell", Decimal("12")),
]

PRODUCTS = [
    # sku, name, unit price (CNY), stock on hand, reorder point, lines that can make it,
    # routing: (step, standard minutes per unit)
    (
        "PUMP-100",
        "Centrifugal pump 100 L/min",
        Decimal("1850.00"),
        40,
        10,
        ["CELL-M", "LINE-1"],
        [("machine", "12"), ("assemble", "20"), ("test", "8")],
    ),
    (
        "VALVE-25",
        "Ball valve DN25",
        Decimal("120.00"),
        500,
        100,
        ["LINE-1", "LINE-2"],
        [("prepare", "2"), ("assemble", "4"), ("inspect", "1")],
    ),
    (
        "MOTOR-7K",
        "Electric motor 7.5 kW",
        Decimal("6400.00"),
        12,
        4,
        ["LINE-2"],
        [("wind", "45"), ("assemble", "30"), ("test", "15")],
    ),
    (
        "PANEL-CTL",
        "Control panel",
        Decimal("23800.00"),
        3,
        2,
        ["LINE-1", "LINE-2"],
        [("prepare", "30"), ("wire", "90"), ("inspect", "20")],
    ),
    (
        "FRAME-S",
        "Steel frame, small",
        Decimal("540.00"),
        80,
        20,
        ["CELL-M"],
        [("cut", "6"), ("weld", "15"), ("paint", "9")],
    ),
]

USERS = [
    # username, full name, roles, customer code
    ("sales1", "Sally Sales", ["sales"], None),
    ("sup1", "Sam Supervisor", ["supervisor"], None),
    ("sup2", "Sue Supervisor", ["supervisor"], None),
    ("mgr1", "Mia Manager", ["manager"], None),
    ("dir1", "Dan Director", ["director"], None),
    ("fin1", "Fay Finance", ["finance"], None),
    ("prod1", "Pat Production", ["production"], None),
    ("log1", "Lou Logistics", ["logistics"], None),
    ("ops1", "Olga Ops", ["ops"], None),
    ("admin1", "Ada Admin", ["admin"], None),
    ("acme", "Acme purchasing", ["customer"], "ACME"),
]


async def seed_demo_data(session: AsyncSession) -> int:
    """Add whatever demo rows are missing; returns how many were added."""
    added = 0
    customers = {c.code: c for c in await session.scalars(select(Customer))}
    for code, name, limit in CUSTOMERS:
        if code not in customers:
            customers[code] = Customer(code=code, name=name, credit_limit=limit, active=True)
            session.add(customers[code])
            added += 1
    known_lines = set(await session.scalars(select(ProductionLine.code)))
    for code, line_name, units_per_hour in PRODUCTION_LINES:
        if code not in known_lines:
            session.add(
                ProductionLine(
                    code=code, name=line_name, units_per_hour=units_per_hour, active=True
                )
            )
            added += 1
    known_skus = set(await session.scalars(select(Product.sku)))
    for sku, name, price, stock, reorder_point, lines, routing in PRODUCTS:
        if sku not in known_skus:
            session.add(
                Product(
                    sku=sku,
                    name=name,
                    unit_price=price,
                    stock_on_hand=stock,
                    reorder_point=reorder_point,
                    line_codes=lines,
                    active=True,
                    routing=[
                        RoutingStep(seq=i, name=step, minutes_per_unit=Decimal(minutes))
                        for i, (step, minutes) in enumerate(routing, start=1)
                    ],
                )
            )
            added += 1
    await session.flush()
    known_users = set(await session.scalars(select(User.username)))
    password_hash = hash_password(DEMO_PASSWORD)
    for username, full_name, roles, customer_code in USERS:
        if username not in known_users:
            session.add(
                User(
                    username=username,
                    full_name=full_name,
                    password_hash=password_hash,
                    roles=roles,
                    customer_id=customers[customer_code].id if customer_code else None,
                    active=True,
                )
            )
            added += 1
    return added


async def main() -> None:
    engine = create_engine(get_settings().sqlalchemy_url)
    try:
        async with create_session_factory(engine).begin() as session:
            added = await seed_demo_data(session)
        print(f"demo data: {added} row(s) added" if added else "demo data: already present")
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
