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
    summary="The audit trail",
)
async def list_audit(
    _: Ops,
    session: SessionDep,
    order_no: Annotated[
        OrderNo | None,
        Query(description="Only rows about this order.", examples=["SO-2026-000123"]),
    ] = None,
    kind: Annotated[
        SingleLine | None,
        Query(
            max_length=32,
            description="Only rows of this kind, e.g. `transition`, `decision`.",
            examples=["decision"],
        ),
    ] = None,
    limit: PageLimit = 50,
    cursor: Cursor = None,
) -> schemas.Page[schemas.AuditEntryPublic]:
    """Ops. Audit rows newest first: who did what to which order, with each row's hash and
    the hash of the row before, so anyone can recompute the chain. Pass `next_cursor` back
    as `cursor` for older rows. 403: the caller is not ops. 422: a parameter is not
    valid."""
    return await audit.list_audit(session, order_no=order_no, kind=kind, limit=limit, cursor=cursor)


@router.get(
    "/verify",
    response_model=schemas.AuditVerification,
    summary="Verify the audit trail's hash chain",
)
async def verify_audit(_: Ops, session: SessionDep) -> schemas.AuditVerification:
    """Ops. Recomputes the whole hash chain: `ok` when no row was changed, removed or
    inserted since it was written; otherwise `first_bad_id` names the first row that fails.
    403: the caller is not ops."""
    return await audit.verify_chain(session)
