"""Fulfilment: work orders and their steps, shop-floor reports, shipments and their
tracking, the stock ledger, and the alerts raised along the way."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.models.base import Base, _now_column


class WorkOrder(Base):
    """Production of one product for one order, booked on a line from planned start to finish.

    ``seq`` numbers an order's work orders: the first ones cover the stock shortfall of its
    lines, later ones re-plan what scrap left missing (``replan_of``).
    """

    __tablename__ = "work_orders"
    __table_args__ = (
        UniqueConstraint("order_id", "seq"),
        Index(
            "ix_work_orders_created_at",
            "created_at",
            postgresql_include=["order_id", "line", "status", "finished_at"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_no: Mapped[str] = mapped_column(String(32), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The product made; never null for work orders booked by release 1.0.
    sku: Mapped[str | None] = mapped_column(ForeignKey("products.sku"))
    quantity: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    line: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))  # open | completed | cancelled
    planned_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    planned_finish: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Good units out of the last step, which went into stock for the order.
    produced_qty: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    replan_of: Mapped[str | None] = mapped_column(String(32))
    overdue_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now_column()

    steps: Mapped[list[WorkOrderStep]] = relationship(
        order_by="WorkOrderStep.seq", cascade="all, delete-orphan"
    )


class WorkOrderStep(Base):
    __tablename__ = "work_order_steps"
    __table_args__ = (UniqueConstraint("work_order_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(64))
    # pending | started | completed | skipped (nothing good left to work on)
    status: Mapped[str] = mapped_column(String(16))
    good_qty: Mapped[int] = mapped_column(Integer, default=0)
    scrap_qty: Mapped[int] = mapped_column(Integer, default=0)
    planned_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    planned_finish: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ProductionEvent(Base):
    """A shop-floor report as received; ``event_id`` makes a redelivered signal harmless."""

    __tablename__ = "production_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    work_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE")
    )
    step: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(16))
    good_qty: Mapped[int | None] = mapped_column(Integer)
    scrap_qty: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    reported_by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Shipment(Base):
    __tablename__ = "shipments"
    __table_args__ = (
        Index("ix_shipments_delivered_at", "delivered_at", postgresql_include=["order_id"]),
        UniqueConstraint("order_id", "seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    # 1, 2, ... per order: an order ships in one shipment or several (per-line fulfilment).
    seq: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    carrier: Mapped[str] = mapped_column(String(64))
    tracking_no: Mapped[str] = mapped_column(String(64), unique=True)
    # booked | shipped | in_transit | out_for_delivery | delivered | exception | cancelled
    status: Mapped[str] = mapped_column(String(32))
    booked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    shipped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Receipt of this shipment, confirmed by the customer (or sales), or automatically.
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    confirmed_by: Mapped[str | None] = mapped_column(String(64))

    events: Mapped[list[ShipmentEvent]] = relationship(
        order_by="ShipmentEvent.occurred_at", cascade="all, delete-orphan"
    )
    # What the shipment carries; none for a shipment of release 1.0, which carries the whole
    # order.
    lines: Mapped[list[ShipmentLine]] = relationship(
        order_by="ShipmentLine.line_no", cascade="all, delete-orphan"
    )


class ShipmentLine(Base):
    """Units of one order line in one shipment."""

    __tablename__ = "shipment_lines"
    __table_args__ = (
        UniqueConstraint("shipment_id", "line_no"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"))
    line_no: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)


class ShipmentEvent(Base):
    __tablename__ = "shipment_events"
    __table_args__ = (UniqueConstraint("shipment_id", "status", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(32))
    location: Mapped[str | None] = mapped_column(String(200))
    # The carrier's own words, e.g. why delivery failed.
    detail: Mapped[str | None] = mapped_column(String(500))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = _now_column()


class StockMovement(Base):
    """Every change of stock, so that on-hand and reserved can be audited and rebuilt.

    ``key`` names the movement's cause (``SO-2026-000001:reserve:1``), so a retried activity
    cannot move the same stock twice. Quantities are positive; ``kind`` gives the direction
    (``domain.stock.EFFECTS``): opening, receipt, count_gain, produce (on hand +), count_loss
    (on hand -), reserve (reserved +), release (reserved -), ship (on hand and reserved -).
    A new product's on-hand is booked as its ``opening`` movement by a trigger (migration
    0011), whoever inserts the row.
    """

    __tablename__ = "stock_movements"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "kind IN ('opening', 'receipt', 'count_gain', 'count_loss', 'reserve', 'release', "
            "'produce', 'ship')",
            name="kind_known",
        ),
        # The movements list pages newest first.
        Index("ix_stock_movements_at_id", "at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"), index=True)
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = _now_column()
    # Who booked a receipt or a count, and its delivery note or reason; null for the
    # movements orders make (their order says why).
    actor: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(500))


class Alert(Base):
    """Something people should look at: low stock, a late work order, a carrier exception.

    ``key`` makes each alert once-only (``overdue:WO-2026-000004``).
    """

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    sku: Mapped[str | None] = mapped_column(ForeignKey("products.sku"))
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    message: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = _now_column()
