"""SQLAlchemy models: the projection of every order that activities write and the API reads."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(14, 2)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _now_column() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_limit: Mapped[Decimal] = mapped_column(Money)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = _now_column()


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


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("created_by", "idempotency_key"),)

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
    # Every reason validation refused the order for, empty when it passed.
    rejection_reasons: Mapped[list[str]] = mapped_column(JSONB, default=list)
    # The approval policy version and rule the order was reviewed under; null before review.
    policy_version: Mapped[int | None] = mapped_column(Integer)
    policy_rule: Mapped[str | None] = mapped_column(String(100))
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
    __table_args__ = (UniqueConstraint("order_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReviewLevel(Base):
    __tablename__ = "review_levels"
    __table_args__ = (UniqueConstraint("order_id", "level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(32))
    # waiting (an earlier level is open), pending, approved, rejected, cancelled
    status: Mapped[str] = mapped_column(String(16))
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    escalated_to: Mapped[str | None] = mapped_column(String(32))
    # How many distinct approvers must approve the level.
    quorum: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The level's clocks in seconds, as the policy set them; null: the deployment's default.
    remind_every: Mapped[float | None] = mapped_column(Float)
    escalate_after: Mapped[float | None] = mapped_column(Float)
    expire_after: Mapped[float | None] = mapped_column(Float)
    # Reminders per round before the level falls silent; null: the deployment's default.
    reminder_limit: Mapped[int | None] = mapped_column(Integer)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Decision(Base):
    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("order_id", "level", "decided_by"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(Integer)
    decided_by: Mapped[str] = mapped_column(String(64))
    # Set when ``decided_by`` decided as the delegate of this approver.
    on_behalf_of: Mapped[str | None] = mapped_column(String(64))
    acting_role: Mapped[str] = mapped_column(String(32))
    decision: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReviewNotice(Base):
    """A reminder, escalation or expiry addressed to one approver of a stalled review level.

    ``round`` counts the firings of one kind for one level, as reminders repeat.
    """

    __tablename__ = "review_notices"
    __table_args__ = (UniqueConstraint("order_id", "level", "kind", "round", "recipient"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # reminder | escalation | expiry
    round: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    role: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WorkOrder(Base):
    """Production of one product for one order, booked on a line from planned start to finish.

    ``seq`` numbers an order's work orders: the first ones cover the stock shortfall of its
    lines, later ones re-plan what scrap left missing (``replan_of``).
    """

    __tablename__ = "work_orders"
    __table_args__ = (UniqueConstraint("order_id", "seq"),)

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

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    carrier: Mapped[str] = mapped_column(String(64))
    tracking_no: Mapped[str] = mapped_column(String(64), unique=True)
    # booked | shipped | in_transit | out_for_delivery | delivered | exception | cancelled
    status: Mapped[str] = mapped_column(String(32))
    booked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    shipped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    events: Mapped[list[ShipmentEvent]] = relationship(
        order_by="ShipmentEvent.occurred_at", cascade="all, delete-orphan"
    )


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
    cannot move the same stock twice. Quantities are positive; ``kind`` gives the direction:
    reserve (reserved +), release (reserved -), produce (on hand +), ship (on hand and
    reserved -).
    """

    __tablename__ = "stock_movements"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"), index=True)
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # reserve | release | produce | ship
    quantity: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = _now_column()


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


class ApprovalPolicy(Base):
    """One version of the approval policy; the newest is in force. Never changed once written.

    ``rules`` is the policy document (see ``domain/policy.py``): ordered rules, each with its
    conditions and the review levels it asks for.
    """

    __tablename__ = "approval_policies"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = _now_column()


class Delegation(Base):
    """An approver lends their approval rights to a colleague for a period."""

    __tablename__ = "delegations"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="period_not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delegator: Mapped[str] = mapped_column(String(64), index=True)
    delegate: Mapped[str] = mapped_column(String(64), index=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now_column()


class WebhookSubscription(Base):
    """An outside system that wants HTTP POSTs for some notification events."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    # Signs each delivery (HMAC-SHA256); shown once, when the subscription is made.
    secret: Mapped[str] = mapped_column(String(128))
    events: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = _now_column()


class Notification(Base):
    """One notification on one channel: the outbox that activities write and deliveries read.

    ``key`` names the event and the addressee, so a retried activity adds nothing twice.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index(
            "ix_notifications_pending", "channel", "id", postgresql_where=text("status = 'pending'")
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    event: Mapped[str] = mapped_column(String(32), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # in_app | email | webhook
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    # in_app and email: the user; webhook: null.
    recipient: Mapped[str | None] = mapped_column(String(64), index=True)
    # email: the address; webhook: the URL.
    target: Mapped[str | None] = mapped_column(String(500))
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="SET NULL")
    )
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # pending | sent | failed (in_app notifications are sent when written)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now_column()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """The append-only audit log; each row's ``hash`` covers its content and the previous row's
    hash, so altering or removing any row breaks the chain from there on."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    # transition | decision | delegation | policy | hold ...
    kind: Mapped[str] = mapped_column(String(32), index=True)
    order_no: Mapped[str | None] = mapped_column(String(32), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
