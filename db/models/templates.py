"""Order templates: a customer's usual order kept for re-use, optionally on a schedule, and the
record of each scheduled run (the order it entered, or why it skipped)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.models.base import Base, _now_column


class OrderTemplate(Base):
    """``owner`` enters the orders its schedule makes (the last person to change it answers
    for them); ``schedule`` is the spec as the API took it, null for none."""

    __tablename__ = "order_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    notes: Mapped[str | None] = mapped_column(Text)
    schedule: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    owner: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = _now_column()
    updated_at: Mapped[datetime] = _now_column()

    lines: Mapped[list[OrderTemplateLine]] = relationship(
        order_by="OrderTemplateLine.line_no", cascade="all, delete-orphan"
    )


class OrderTemplateLine(Base):
    __tablename__ = "order_template_lines"

    template_id: Mapped[int] = mapped_column(
        ForeignKey("order_templates.id", ondelete="CASCADE"), primary_key=True
    )
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"))
    quantity: Mapped[int] = mapped_column(Integer)


class TemplateRun(Base):
    """One scheduled run of a template: ``entered`` with its order, or ``skipped`` /
    ``failed`` with the reason. One row per scheduled time, however often a run is retried."""

    __tablename__ = "template_runs"
    __table_args__ = (UniqueConstraint("template_id", "scheduled_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(
        ForeignKey("order_templates.id", ondelete="CASCADE"), index=True
    )
    scheduled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(16))  # entered | skipped | failed
    order_no: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = _now_column()
