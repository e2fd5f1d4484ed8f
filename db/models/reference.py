"""Reference data that orders point at: customers, products with their stock and routing,
production lines, and the users who sign in."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.models.base import Base, Money, _now_column


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_limit: Mapped[Decimal] = mapped_column(Money)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = _now_column()
    # The credit department's rating: low, normal or high.
    risk: Mapped[str] = mapped_column(String(16), default="normal", server_default="normal")
    # People to talk to: a list of {"name", "email", "phone", "role"}.
    contacts: Mapped[list[dict[str, str]]] = mapped_column(JSONB, default=list, server_default="[]")
    # Where the customer's order notifications go; none without it.
    notification_email: Mapped[str | None] = mapped_column(String(200))


class Product(Base):
    """A product with its stock; ``available`` = on hand - reserved.

    The checks make overselling impossible even for a faulty writer: nothing is reserved that
    is not on hand, and on-hand never goes negative.
    """

    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("stock_on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("stock_reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("stock_reserved <= stock_on_hand", name="reserved_within_on_hand"),
    )

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # The undated price: what an order pays when the product has no dated price in effect
    # on the order's entry day (see ``ProductPrice`` and ``db/prices.py``).
    unit_price: Mapped[Decimal] = mapped_column(Money)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Approval policies may ask for more review of some categories.
    category: Mapped[str] = mapped_column(String(64), default="general", server_default="general")
    stock_on_hand: Mapped[int] = mapped_column(Integer, default=0)
    stock_reserved: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Below this many available units a low-stock alert is raised.
    reorder_point: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Set while available stock is below the reorder point, so the alert is raised once.
    low_stock_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Codes of the production lines that can make this product; empty means any line.
    line_codes: Mapped[list[str]] = mapped_column(
        ARRAY(String(32)), default=list, server_default="{}"
    )

    routing: Mapped[list[RoutingStep]] = relationship(
        order_by="RoutingStep.seq", cascade="all, delete-orphan"
    )

    @property
    def available(self) -> int:
        return self.stock_on_hand - self.stock_reserved


class ProductPrice(Base):
    """One entry of the dated price list: the product sells at ``unit_price`` from
    ``effective_from`` until the next entry's day."""

    __tablename__ = "product_prices"
    __table_args__ = (CheckConstraint("unit_price > 0", name="price_positive"),)

    sku: Mapped[str] = mapped_column(
        ForeignKey("products.sku", ondelete="CASCADE"), primary_key=True
    )
    effective_from: Mapped[date] = mapped_column(Date, primary_key=True)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = _now_column()


class RoutingStep(Base):
    """One step of a product's routing, with its standard time per unit."""

    __tablename__ = "routing_steps"

    sku: Mapped[str] = mapped_column(
        ForeignKey("products.sku", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    minutes_per_unit: Mapped[Decimal] = mapped_column(Numeric(8, 2))


class ProductionLine(Base):
    """A line and its capacity; its calendar is the open work orders booked on it."""

    __tablename__ = "production_lines"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    units_per_hour: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    # Where e-mail notifications go; none without it.
    email: Mapped[str | None] = mapped_column(String(200))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # When an admin last set the password; tokens issued before it no longer work.
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
