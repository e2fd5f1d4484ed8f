"""Customer feedback: one rating per completed order, given by the order's customer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, _now_column


class OrderFeedback(Base):
    """The customer's rating (1 to 5) and comment on a completed order.

    ``order_id`` is unique: an order is rated once, and two requests racing to rate it leave
    one row. ``customer_id`` is the order's, kept here so the customer's ratings are read
    without the orders table.
    """

    __tablename__ = "order_feedback"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        Index("ix_order_feedback_given_at", "given_at"),
        Index("ix_order_feedback_customer_id_given_at", "customer_id", "given_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    rating: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    given_by: Mapped[str] = mapped_column(String(64))
    given_at: Mapped[datetime] = _now_column()
