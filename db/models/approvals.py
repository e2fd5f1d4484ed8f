"""Approval: the versions of the approval policy, each order's review levels and the
decisions taken on them, the reminders, escalations and expiries of stalled levels, and
delegations of approval rights."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, _now_column


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


class ReviewLevel(Base):
    __tablename__ = "review_levels"
    __table_args__ = (
        UniqueConstraint("order_id", "level"),
        # The open levels, few among all: what the escalated and waiting-role filters look for.
        Index(
            "ix_review_levels_open",
            "order_id",
            postgresql_where=text("status = 'pending'"),
        ),
        Index(
            "ix_review_levels_opened_at",
            "opened_at",
            postgresql_include=["order_id", "level", "role", "status", "escalated", "decided_at"],
        ),
    )

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
    # When the level became the one waiting for decisions: where its turnaround starts.
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # 1, then one more each time an amendment re-opens the level; its decisions carry it.
    opening: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class Decision(Base):
    __tablename__ = "decisions"
    __table_args__ = (
        UniqueConstraint("order_id", "level", "decided_by"),
        Index(
            "ix_decisions_at",
            "at",
            postgresql_include=["order_id", "level", "decided_by", "on_behalf_of"],
        ),
    )

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


class SetAsideDecision(Base):
    """A decision of a level's earlier opening, moved here when an amendment re-opened the
    level: the level is decided again, and what was decided before stays on the record."""

    __tablename__ = "set_aside_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    opening: Mapped[int] = mapped_column(Integer)
    decided_by: Mapped[str] = mapped_column(String(64))
    on_behalf_of: Mapped[str | None] = mapped_column(String(64))
    acting_role: Mapped[str] = mapped_column(String(32))
    decision: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The order version whose amendment re-opened the level.
    set_aside_by_version: Mapped[int] = mapped_column(Integer)


class ReviewNotice(Base):
    """A reminder, escalation or expiry addressed to one approver of a stalled review level.

    ``round`` counts the firings of one kind for one level, as reminders repeat.
    """

    __tablename__ = "review_notices"
    __table_args__ = (
        UniqueConstraint("order_id", "level", "kind", "round", "recipient"),
        Index(
            "ix_review_notices_at", "at", postgresql_include=["order_id", "level", "kind", "round"]
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # reminder | escalation | expiry
    round: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    role: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


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
