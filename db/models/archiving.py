"""Archive runs: what each run of the archive schedule archived, for ops to look back on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Double, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base


class ArchiveRun(Base):
    """One finished run of the archive workflow; ``run_id`` is its Temporal run id, so a
    retried write of the same run records it once."""

    __tablename__ = "archive_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64), unique=True)
    # The schedule names each run's workflow after the moment it was due (or triggered).
    workflow_id: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Orders closed before this moment were due: the run's start less ARCHIVE_AFTER.
    closed_before: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    archive_after_seconds: Mapped[float] = mapped_column(Double)
    archived: Mapped[int] = mapped_column(Integer)
    # The run stopped at its batch limit with due orders left for the next run.
    more_left: Mapped[bool]
