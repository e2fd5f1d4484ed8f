"""Production progress as people read it: steps done of all, percent, planned and actual finish."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

# A skipped step (nothing good was left to work on) needs no more work either.
DONE_STEP_STATUSES = ("completed", "skipped")


@dataclass(frozen=True)
class WorkOrderFacts:
    step_statuses: list[str]
    planned_finish: datetime | None
    finished_at: datetime | None
    cancelled: bool = False


@dataclass(frozen=True)
class Progress:
    steps_done: int
    steps_total: int
    percent: int
    planned_finish: datetime | None
    # When the last work order finished; null while any is still open.
    actual_finish: datetime | None


def production_progress(work_orders: Iterable[WorkOrderFacts]) -> Progress:
    counted = [wo for wo in work_orders if not wo.cancelled]
    statuses = [status for wo in counted for status in wo.step_statuses]
    done = sum(status in DONE_STEP_STATUSES for status in statuses)
    planned = [wo.planned_finish for wo in counted if wo.planned_finish]
    finished = [wo.finished_at for wo in counted if wo.finished_at]
    return Progress(
        steps_done=done,
        steps_total=len(statuses),
        percent=round(100 * done / len(statuses)) if statuses else 0,
        planned_finish=max(planned, default=None),
        actual_finish=max(finished) if counted and len(finished) == len(counted) else None,
    )
