"""Orders: the order with its lines, and every status it passed through."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.models.base import Base, Money, _now_column


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("created_by", "idempotency_key"),
        Index("ix_orders_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_no: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    status: Mapped[str] = mapped_column(String(32), index=True)
    # The status an order on hold resumes to.
    held_from: Mapped[str | None] = mapped_column(String(32))
    total: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    created_by: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    # SHA-256 of what the entry asked for: the same key again must ask for the same order.
    request_hash: Mapped[str | None] = mapped_column(String(64))
    # Every reason validation refused the order for, empty when it passed.
    rejection_reasons: Mapped[list[str]] = mapped_column(JSONB, default=list)
    # The approval policy version and rule the order was reviewed under; null before review.
    policy_version: Mapped[int | None] = mapped_column(Integer)
    policy_rule: Mapped[str | None] = mapped_column(String(100))
    # The day the customer wants the goods; on-time delivery is measured against it.
    requested_delivery_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = _now_column()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.line_no", cascade="all, delete-orphan"
    )


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (UniqueConstraint("order_id", "line_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    line_no: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    # Null until validation fills it from the price list.
    unit_price: Mapped[Decimal | None] = mapped_column(Money)
    amount: Mapped[Decimal | None] = mapped_column(Money)
    # Taken from stock on approval; the rest of the quantity is made by production.
    reserved_qty: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    produce_qty: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    order: Mapped[Order] = relationship(back_populates="lines")


class StatusHistory(Base):
    """One row per transition; ``seq`` is the workflow's own counter, so a retry cannot add one."""

    __tablename__ = "status_history"
    __table_args__ = (
        UniqueConstraint("order_id", "seq"),
        # Stays that began in a period, read by the stage analytics without the table.
        Index(
            "ix_status_history_at_stay",
            "at",
            postgresql_include=["to_status", "left_at", "order_id"],
        ),
        # The stay each order is in now: where open orders wait, and since when.
        Index(
            "ix_status_history_current",
            "at",
            postgresql_where=text("left_at IS NULL"),
            postgresql_include=["order_id", "to_status"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # When the order left ``to_status`` (the next transition's ``at``); null while it stays.
    # Written with the next transition, so a stay is one row and analytics need no self-join.
    left_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
