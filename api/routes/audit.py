"""The audit trail: append-only, hash-chained, verifiable by ops."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api import audit, schemas
from api.deps import SessionDep, require_roles
from api.errors import Forbidden, InvalidRequest, Unauthorized, responses
from api.params import Cursor, PageLimit
from api.schemas.types import OrderNo, SingleLine
from db.models import User
from domain.roles import Role

router = APIRouter(prefix="/audit", tags=["audit"], responses=responses(Unauthorized, Forbidden))

Ops = Annotated[User, Depends(require_roles(Role.OPS))]


@router.get(
    "",
    response_model=schemas.Page[schemas.AuditEntryPublic],
    responses=responses(InvalidRequest),
)
async def list_audit(
    _: Ops,
    session: SessionDep,
    order_no: Annotated[OrderNo | None, Query()] = None,
    kind: Annotated[SingleLine | None, Query(max_length=32)] = None,
    limit: PageLimit = 50,
    cursor: Cursor = None,
) -> schemas.Page[schemas.AuditEntryPublic]:
    """Audit rows newest first, with their hashes; pass ``next_cursor`` back for older ones."""
    return await audit.list_audit(session, order_no=order_no, kind=kind, limit=limit, cursor=cursor)


@router.get("/verify", response_model=schemas.AuditVerification)
async def verify_audit(_: Ops, session: SessionDep) -> schemas.AuditVerification:
    """Recompute the whole hash chain; ``first_bad_id`` names the first row that fails."""
    return await audit.verify_chain(session)
