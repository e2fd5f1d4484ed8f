"""The bench's own reference data, written straight to the stack's PostgreSQL (bench only).

One customer with a credit limit no bench run can reach, and its customer user; one user per
role the bench plays; a product kept in stock and a made-to-order product with no stock, a
three-step routing and a production line of its own. Everything is created only where missing,
so a run against an ``--external`` stack can be repeated.

Stock is topped up before each run the way a goods receipt would be: a ``stock_movements`` row
of kind ``produce`` keyed by the run, added to ``products.stock_on_hand`` in the same
transaction, so the ledger (on hand = opening + Σproduce - Σship) stays consistent.

The line's capacity is chosen so that no bench work order runs past its planned finish while
the bench reports it done: an overdue alert is not part of the happy path being measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from db.models import Customer, Product, ProductionLine, RoutingStep, StockMovement, User
from domain.passwords import hash_password

BENCH_PASSWORD = "bench-pass"
CUSTOMER_CODE = "BENCH"
STOCK_SKU = "BENCH-STOCK"
MADE_TO_ORDER_SKU = "BENCH-MTO"
LINE_CODE = "BENCH-LINE"
UNIT_PRICE = Decimal("100.00")
# At 10 units per hour the smallest bench work order (10 units) is planned to take an hour.
LINE_UNITS_PER_HOUR = Decimal("10")
ROUTING = [("cut", Decimal("2")), ("assemble", Decimal("3")), ("inspect", Decimal("1"))]
CREDIT_LIMIT = Decimal("100000000000")  # 1e11 CNY: twenty thousand parked orders fit easily

#: The bench's people: role -> username. Each approver role has its own person, so separation
#: of duties (one person decides one level, the creator never approves) holds by construction.
STAFF = {
    "sales": "bench-sales",
    "supervisor": "bench-supervisor",
    "manager": "bench-manager",
    "director": "bench-director",
    "production": "bench-production",
    "logistics": "bench-logistics",
}
CUSTOMER_USER = "bench-customer"


@dataclass(frozen=True)
class BenchData:
    customer_id: int
    usernames: dict[str, str]  # role (and "customer") -> username


def hash_bench_password() -> str:
    return hash_password(BENCH_PASSWORD)


async def _ensure_customer(session: AsyncSession) -> Customer:
    customer = await session.scalar(select(Customer).where(Customer.code == CUSTOMER_CODE))
    if customer is None:
        customer = Customer(
            code=CUSTOMER_CODE, name="Bench customer", credit_limit=CREDIT_LIMIT, active=True
        )
        session.add(customer)
        await session.flush()
    return customer


async def _ensure_users(session: AsyncSession, customer_id: int) -> None:
    known = set(await session.scalars(select(User.username)))
    password_hash = hash_bench_password()
    wanted: list[tuple[str, list[str], int | None]] = [
        (username, [role], None) for role, username in STAFF.items()
    ]
    wanted.append((CUSTOMER_USER, ["customer"], customer_id))
    for username, roles, customer in wanted:
        if username not in known:
            session.add(
                User(
                    username=username,
                    full_name=f"Bench {roles[0]}",
                    password_hash=password_hash,
                    roles=roles,
                    customer_id=customer,
                    active=True,
                )
            )


async def _ensure_products(session: AsyncSession) -> None:
    if await session.get(ProductionLine, LINE_CODE) is None:
        session.add(
            ProductionLine(
                code=LINE_CODE,
                name="Bench line",
                units_per_hour=LINE_UNITS_PER_HOUR,
                active=True,
            )
        )
    if await session.get(Product, STOCK_SKU) is None:
        session.add(
            Product(
                sku=STOCK_SKU,
                name="Bench product from stock",
                unit_price=UNIT_PRICE,
                stock_on_hand=0,
                reorder_point=0,
                line_codes=[LINE_CODE],
                active=True,
            )
        )
    if await session.get(Product, MADE_TO_ORDER_SKU) is None:
        session.add(
            Product(
                sku=MADE_TO_ORDER_SKU,
                name="Bench product made to order",
                unit_price=UNIT_PRICE,
                stock_on_hand=0,
                reorder_point=0,
                line_codes=[LINE_CODE],
                active=True,
                routing=[
                    RoutingStep(seq=i, name=name, minutes_per_unit=minutes)
                    for i, (name, minutes) in enumerate(ROUTING, start=1)
                ],
            )
        )


async def _restock(session: AsyncSession, run_id: str, units: int) -> None:
    """Receive ``units`` of the stock product, once per run id."""
    if units <= 0:
        return
    key = f"bench:{run_id}:restock"
    if await session.scalar(select(StockMovement.id).where(StockMovement.key == key)):
        return
    product = await session.get(Product, STOCK_SKU, with_for_update=True)
    assert product is not None
    session.add(StockMovement(key=key, sku=STOCK_SKU, kind="produce", quantity=units))
    product.stock_on_hand += units


async def prepare_bench_data(database_url: str, run_id: str, restock_units: int) -> BenchData:
    """Create what is missing and restock; returns the customer id and the usernames."""
    engine = create_async_engine(database_url)
    try:
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        async with sessions.begin() as session:
            customer = await _ensure_customer(session)
            await _ensure_users(session, customer.id)
            await _ensure_products(session)
        async with sessions.begin() as session:
            await _restock(session, run_id, restock_units)
        return BenchData(customer.id, {**STAFF, "customer": CUSTOMER_USER})
    finally:
        await engine.dispose()
