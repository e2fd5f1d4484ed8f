"""Delegations of approval rights, and the caller's pending approvals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

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
    summary="Lend my approval rights to a colleague for a period",
)
async def create_delegation(
    body: schemas.DelegationCreate, user: Delegator, session: SessionDep
) -> schemas.DelegationPublic:
    """Approvers (supervisor, manager, director, finance). Lends the caller's approval
    rights to a colleague of the same or a higher role from `starts_at` (now if left out)
    until `ends_at`: while it runs the delegate decides on the caller's behalf, and each
    decision records it. One stand-in at a time.

    403: the caller has no approver role to lend. 422: the body is not valid; the delegate
    is the caller, not an active user, or may stand in for none of the caller's roles;
    `ends_at` is not after `starts_at` or already past; or the period overlaps the caller's
    other delegation."""
    return await delegations.create_delegation(session, user, body)


@router.get(
    "/delegations",
    response_model=schemas.Page[schemas.DelegationPublic],
    summary="Delegations I gave or received",
)
async def list_delegations(
    user: CurrentUser,
    session: SessionDep,
    limit: PageLimit = 50,
    cursor: Cursor = None,
) -> schemas.Page[schemas.DelegationPublic]:
    """Any signed-in user: the delegations the caller gave or received, newest first; ops
    sees every delegation. Pass `next_cursor` back as `cursor` for the next page."""
    return await delegations.list_delegations(session, user, limit=limit, cursor=cursor)


@router.delete(
    "/delegations/{delegation_id}",
    response_model=schemas.DelegationPublic,
    responses=responses(Forbidden, NotFound, Conflict),
    summary="Revoke a delegation",
)
async def revoke_delegation(
    delegation_id: Annotated[
        Id, Path(description="The delegation's `id`, as listed.", examples=[12])
    ],
    user: CurrentUser,
    session: SessionDep,
) -> schemas.DelegationPublic:
    """Its delegator, or ops. Ends a delegation that has not ended yet, at once:
    `revoked_at` is set and the delegate decides no more on the delegator's behalf.

    403: the caller is neither its delegator nor ops. 404: no such delegation. 409: it has
    already ended or been revoked."""
    return await delegations.revoke_delegation(session, user, delegation_id)


@router.get(
    "/approvals/pending",
    response_model=schemas.Page[schemas.PendingApprovalPublic],
    responses=responses(Forbidden),
    summary="Orders waiting for my approval",
)
async def pending_approvals(
    user: Approver,
    session: SessionDep,
    customer_id: Annotated[
        Id | None,
        Query(description="Only this customer's orders (its `id`).", examples=[1]),
    ] = None,
    limit: PageLimit = approvals.PENDING_LIMIT,
    cursor: Cursor = None,
) -> schemas.Page[schemas.PendingApprovalPublic]:
    """Approvers. Orders waiting on a level the caller may decide (in an own role, through
    an escalation, or through a delegation), oldest first, a page at a time (pass
    ``next_cursor`` back for more); each with the level, the role the caller would decide in,
    the customer's order history to decide with, and the order's latest amendment with its
    field-level diff (`latest_amendment`, null when never amended). Ops sees every order
    under review, with the role each waits on; ``acting_as`` is null on those it may not
    decide.
    403: the caller has no approver role."""
    return await approvals.pending_approvals(
        session, user, customer_id=customer_id, limit=limit, cursor=cursor
    )
