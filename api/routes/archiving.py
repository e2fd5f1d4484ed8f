"""Archiving for ops: the archive schedule's state and last run, and a run now."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from api import archiving, schemas
from api.deps import SessionDep, SettingsDep, TemporalDep, require_roles
from api.errors import Forbidden, Unauthorized, Unavailable, responses
from api.schemas.archiving import ArchivingPublic
from db.models import User
from domain.roles import Role

router = APIRouter(
    prefix="/archiving", tags=["archiving"], responses=responses(Unauthorized, Forbidden)
)

Ops = Annotated[User, Depends(require_roles(Role.OPS))]


@router.get(
    "",
    response_model=ArchivingPublic,
    responses=responses(Unavailable),
    summary="How archiving stands",
)
async def get_archiving(
    _: Ops, session: SessionDep, temporal: TemporalDep, settings: SettingsDep
) -> ArchivingPublic:
    """Ops. The archive schedule as Temporal has it (paused or not, how often,
    the next run; pause, unpause and trigger it in the Temporal UI under Schedules,
    `archive-orders`) and the last finished run: when, the ARCHIVE_AFTER it used and the
    cut-off that follows, how many orders it archived. Orders that stayed COMPLETED,
    REJECTED or CANCELLED longer than ARCHIVE_AFTER are archived: read-only, and listed
    only with `archived=true`.

    403: the caller is not ops. 503 with `Retry-After`: Temporal did not answer."""
    return await archiving.archiving_state(session, temporal, settings)


@router.post(
    "/run",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=schemas.Accepted,
    responses=responses(Unavailable),
    summary="Run archiving now",
)
async def run_archiving(_: Ops, temporal: TemporalDep, settings: SettingsDep) -> schemas.Accepted:
    """Ops. Starts a run of the archive schedule now, as its trigger in the Temporal UI does
    (also when the schedule is paused); one asked for while a run works starts when it ends.
    The run archives in batches every order closed longer than ARCHIVE_AFTER and not yet
    archived, so running it again archives only what became due since. No body; the
    answer comes at once (202): `GET /archiving` shows the run once it finished.

    403: the caller is not ops. 503 with `Retry-After`: Temporal did not take the run."""
    return await archiving.run_now(temporal, settings)
