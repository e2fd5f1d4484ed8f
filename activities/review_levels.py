"""Showing a review level as open for decisions; shared by transitions and decisions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ReviewLevel


async def open_review_level(session: AsyncSession, order_id: int, level: int, at: datetime) -> None:
    """Show the level as pending from ``at``; a level already decided stays as it is."""
    await session.execute(
        update(ReviewLevel)
        .where(
            ReviewLevel.order_id == order_id,
            ReviewLevel.level == level,
            ReviewLevel.status == "waiting",
        )
        .values(status="pending", opened_at=at)
    )
