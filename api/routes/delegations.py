"""Delegations of approval rights, and the caller's pending approvals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from api import approvals, delegations, schemas
from api.deps import CurrentUser, SessionDep, require_roles
from api.errors import Conflict, Forbidden, InvalidRequest, NotFound, Unauthorized, responses
from api.params import Cursor, PageLimit
from api.schemas.types import Id
from db.models import User
from domain.roles import APPROVER_ROLES, LENDABLE_ROLES

router = APIRouter(tags=["approvals"], responses=responses(Unauthorized))

Approver = Annotated[User, Depends(require_roles(*APPROVER_ROLES))]
# Ops decides escalated levels but lends nothing: see LENDABLE_ROLES.
Delegator = Annotated[User, Depends(require_roles(*LENDABLE_ROLES))]


@router.post(
    "/delegations",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.DelegationPublic,
    responses=responses(Forbidden, InvalidRequest),
)
async def create_delegation(
    body: schemas.DelegationCreate, user: Delegator, session: SessionDep
) -> schemas.DelegationPublic:
    """Lend your approval rights to a colleague of the same or a higher role for a period.
    While it runs they decide on your behalf; you may have one stand-in at a time."""
    return await delegations.create_delegation(session, user, body)


@router.get("/delegations", response_model=schemas.Page[schemas.DelegationPublic])
async def list_delegations(
    user: CurrentUser,
    session: SessionDep,
    limit: PageLimit = 50,
    cursor: Cursor = None,
) -> schemas.Page[schemas.DelegationPublic]:
    """Delegations you gave or received, newest first; ops sees every delegation."""
    return await delegations.list_delegations(session, user, limit=limit, cursor=cursor)


@router.delete(
    "/delegations/{delegation_id}",
    response_model=schemas.DelegationPublic,
    responses=responses(Forbidden, NotFound, Conflict),
)
async def revoke_delegation(
    delegation_id: Id, user: CurrentUser, session: SessionDep
) -> schemas.DelegationPublic:
    """Revoke a delegation that has not ended; by its delegator or ops."""
    return await delegations.revoke_delegation(session, user, delegation_id)


@router.get(
    "/approvals/pending",
    response_model=schemas.Page[schemas.PendingApprovalPublic],
    responses=responses(Forbidden),
)
async def pending_approvals(
    user: Approver,
    session: SessionDep,
    customer_id: Annotated[Id | None, Query()] = None,
    limit: PageLimit = approvals.PENDING_LIMIT,
    cursor: Cursor = None,
) -> schemas.Page[schemas.PendingApprovalPublic]:
    """Orders waiting on a level you may decide (in your own role or through a delegation),
    oldest first, with the customer's order history; pass ``next_cursor`` back for more. Ops
    sees every order under review, ``acting_as`` null on those it may not decide."""
    return await approvals.pending_approvals(
        session, user, customer_id=customer_id, limit=limit, cursor=cursor
    )
