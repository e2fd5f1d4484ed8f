"""Archiving as ops see it: the schedule, its settings and the last run."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.examples import JsonDict

LAST_RUN_EXAMPLE: JsonDict = {
    "run_id": "0193a1f2-7c4e-7d2a-9b1e-5f3c8d2a4e61",
    "workflow_id": "archive-orders-run-2026-12-01T02:00:00Z",
    "started_at": "2026-12-01T02:00:00.004Z",
    "finished_at": "2026-12-01T02:00:01.310Z",
    "closed_before": "2026-11-01T02:00:00.004Z",
    "archive_after_seconds": 2592000.0,
    "archived": 1284,
    "more_left": False,
}
SCHEDULE_EXAMPLE: JsonDict = {
    "schedule_id": "archive-orders",
    "paused": False,
    "note": "archives closed orders; pause here to stop archiving",
    "every_seconds": 86400.0,
    "next_run_at": "2026-12-02T02:00:00Z",
    "running": False,
}


class ArchiveRunPublic(BaseModel):
    """One finished run of the archive workflow."""

    model_config = ConfigDict(
        from_attributes=True, json_schema_extra={"examples": [LAST_RUN_EXAMPLE]}
    )

    run_id: str = Field(description="The run's id in Temporal.")
    workflow_id: str = Field(
        description="The run's workflow id in Temporal: the schedule's, with when it was due."
    )
    started_at: datetime
    finished_at: datetime
    closed_before: datetime = Field(
        description="Orders closed before this moment were archived: the start less ARCHIVE_AFTER."
    )
    archive_after_seconds: float = Field(
        description="ARCHIVE_AFTER the run used: how long an order stays closed before it is "
        "archived."
    )
    archived: int = Field(description="Orders this run archived.")
    more_left: bool = Field(
        description="The run stopped at its batch limit; the next run takes the rest."
    )


class ArchiveSchedulePublic(BaseModel):
    """The archive schedule as Temporal has it (Temporal UI: Schedules, ``archive-orders``)."""

    model_config = ConfigDict(json_schema_extra={"examples": [SCHEDULE_EXAMPLE]})

    schedule_id: str
    paused: bool = Field(description="Paused in the Temporal UI: no run starts on time.")
    note: str | None = Field(description="The note Temporal keeps with the schedule's state.")
    every_seconds: float | None = Field(description="How often it runs (ARCHIVE_EVERY).")
    next_run_at: datetime | None
    running: bool = Field(description="A run is under way now.")


class ArchivingPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "schedule": SCHEDULE_EXAMPLE,
                    "last_run": LAST_RUN_EXAMPLE,
                }
            ]
        }
    )

    schedule: ArchiveSchedulePublic | None = Field(
        description="Null until a worker has created the schedule."
    )
    last_run: ArchiveRunPublic | None = Field(description="Null before the first run finished.")
