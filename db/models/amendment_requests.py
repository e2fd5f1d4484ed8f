"""Amendment requests: a customer asks for a change to its order; sales accept or refuse it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, _now_column

# open → accepted (it made a version) | refused (by sales) | withdrawn (by the customer).
AMENDMENT_REQUEST_STATUSES = ("open", "accepted", "refused", "withdrawn")


class AmendmentRequest(Base):
    """What the customer asked to change, in the shape of an amendment's body, and what
    became of it. ``version`` is the order version the accepted request made."""

    __tablename__ = "amendment_requests"
    __table_args__ = (
        CheckConstraint(
            "status IN ('open', 'accepted', 'refused', 'withdrawn')", name="status_known"
        ),
        CheckConstraint("(status = 'accepted') = (version IS NOT NULL)", name="accepted_version"),
        CheckConstraint("(status = 'open') = (decided_at IS NULL)", name="decided_when_closed"),
        Index("ix_amendment_requests_order_id_created_at", "order_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    requested_by: Mapped[str] = mapped_column(String(64))
    # The body of POST /orders/{order_no}/amendments, as sent (fields left out stay out).
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16), server_default="open")
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = _now_column()
