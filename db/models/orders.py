"""Orders: the order with its lines, and every status it passed through."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Computed,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.models.base import Base, Money, _now_column


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("created_by", "idempotency_key"),
        # The order list's sorts: each key with the id that breaks its ties (api/order_lists.py);
        # the total too, so the throughput report (api/analytics.py) reads the index alone.
        Index("ix_orders_created_at_id", "created_at", "id", postgresql_include=["total"]),
        Index("ix_orders_updated_at_id", "updated_at", "id"),
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
    # Free text for everyone handling the order; an amendment may change it.
    notes: Mapped[str | None] = mapped_column(Text)
    # 1 as entered; each amendment makes the next version (``OrderVersion``).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # When the archive run archived the order (closed long enough ago); null while it is not.
    # An archived order is read-only and left out of the default order lists.
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When a cancellation after a partial shipment cancelled what had not shipped (the
    # backorder); what shipped goes on to delivery. Null while the order ships in full.
    backorder_cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now_column()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.line_no", cascade="all, delete-orphan"
    )


# The closed orders the archive run has yet to look at.
Index(
    "ix_orders_archivable",
    Order.id,
    postgresql_where=text(
        "archived_at IS NULL AND status IN ('COMPLETED', 'REJECTED', 'CANCELLED')"
    ),
)
# Counting what one archive run archived (they share its archived_at).
Index("ix_orders_archived_at", Order.archived_at, postgresql_where=text("archived_at IS NOT NULL"))

# Sorting by total: an order without a total yet ranks below every total.
Index("ix_orders_total_rank", func.coalesce(Order.total, literal_column("-1")), Order.id)


class OrderLine(Base):
    __tablename__ = "order_lines"
    # The order list's SKU filter.
    __table_args__ = (UniqueConstraint("order_id", "line_no"), Index("ix_order_lines_sku", "sku"))

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
    # The day the line is promised to reach the customer (UTC days): set on approval, moved
    # by a plan that can no longer keep it (``PromiseChange``); null before approval.
    promised_date: Mapped[date | None] = mapped_column(Date)

    order: Mapped[Order] = relationship(back_populates="lines")


class PromiseChange(Base):
    """A line's promise given or moved: the first one (``old_date`` null) on approval, then
    every move with why; the slips of an order are its rows with a later ``new_date``."""

    __tablename__ = "promise_changes"
    # ``cause`` names what set the date (``approval``, ``replan-3``): once per line.
    __table_args__ = (UniqueConstraint("order_id", "line_no", "cause"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    line_no: Mapped[int] = mapped_column(Integer)
    old_date: Mapped[date | None] = mapped_column(Date)
    new_date: Mapped[date] = mapped_column(Date)
    cause: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = _now_column()


class OrderVersion(Base):
    """One amendment: the version it made, who and why, the field-level diff and what it did
    to the review. Version 1 is the order as entered and has no row."""

    __tablename__ = "order_versions"
    __table_args__ = (UniqueConstraint("order_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    amended_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    # [{"field": "lines[2].quantity", "before": 5, "after": 8}, ...]
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    total_before: Mapped[Decimal | None] = mapped_column(Money)
    total_after: Mapped[Decimal | None] = mapped_column(Money)
    # The rule and each level of the amended review: kept, or to decide again, and why.
    review: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # For an order past approval, what its stock and work orders did: units released and
    # reserved per product, work orders booked and cancelled; null before approval.
    fulfilment: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StatusHistory(Base):
    """One row per transition; ``seq`` is the workflow's own counter, so a retry cannot add one."""

    __tablename__ = "status_history"
    __table_args__ = (
        UniqueConstraint("order_id", "seq"),
        # Stays that began in a period, read by the stage analytics without the table.
        Index(
            "ix_status_history_at_stay",
            "at",
            postgresql_include=["to_status", "stay_seconds", "order_id"],
        ),
        # The stay each open order is in now: where it waits, and since when.
        Index(
            "ix_status_history_current",
            "at",
            postgresql_where=text(
                "left_at IS NULL AND to_status NOT IN ('CANCELLED', 'COMPLETED', 'REJECTED')"
            ),
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
    # The stay's length, kept by PostgreSQL: the stage analytics sort these for percentiles.
    stay_seconds: Mapped[float | None] = mapped_column(
        Double, Computed("extract(epoch FROM left_at - at)", persisted=True)
    )
