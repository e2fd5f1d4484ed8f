"""The approval policy: versioned, read by staff, changed by ops."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api import policy as service
from api.deps import SessionDep, require_roles
from api.errors import Conflict, Forbidden, InvalidRequest, NotFound, Unauthorized, responses
from api.schemas import PolicyPublic
from api.schemas.policy import PolicyDocumentCreate
from api.schemas.types import Id
from db.models import ApprovalPolicy, User
from domain.policy import PolicyDocument
from domain.roles import STAFF_ROLES, Role

router = APIRouter(tags=["approvals"], responses=responses(Unauthorized, Forbidden))

Staff = Annotated[User, Depends(require_roles(*sorted(STAFF_ROLES)))]
Ops = Annotated[User, Depends(require_roles(Role.OPS))]


def _public(policy: ApprovalPolicy) -> PolicyPublic:
    return PolicyPublic(
        version=policy.version,
        rules=PolicyDocument.model_validate({"rules": policy.rules}).rules,
        created_by=policy.created_by,
        created_at=policy.created_at,
    )


@router.get(
    "/approval-policy",
    response_model=PolicyPublic,
    responses=responses(NotFound),
    summary="Read the approval policy",
)
async def get_policy(
    _: Staff,
    session: SessionDep,
    version: Annotated[
        Id | None,
        Query(
            description="An earlier version, e.g. the `policy_version` an order's review "
            "shows; leave out for the policy in force.",
            examples=[3],
        ),
    ] = None,
) -> PolicyPublic:
    """Staff. The rules that map an order to its review levels (roles, quorum, reminder,
    escalation and expiry clocks; durations in seconds), in force now or at an earlier
    `version`. 403 for a customer user; 404: no such version."""
    return _public(await service.policy_version(session, version))


@router.put(
    "/approval-policy",
    response_model=PolicyPublic,
    responses=responses(InvalidRequest, Conflict),
    summary="Save a new version of the approval policy",
)
async def put_policy(
    document: PolicyDocumentCreate, user: Ops, session: SessionDep
) -> PolicyPublic:
    """Ops. Saves the document as the next version; orders entered from now on are reviewed
    under it, orders already in review keep theirs. Rules are tried in order and the first
    whose `when` applies decides the levels; durations are seconds or ISO-8601 (`PT4H`).

    403: the caller is not ops. 409: another version was saved at the same moment; read
    the policy and try again. 422: the document is not valid or not consistent (a rule
    without levels or with conditions that cannot hold, an unknown role, total bands with a
    gap or an overlap, so that some order would find no levels or two); nothing is saved."""
    return _public(await service.replace_policy(session, user, document))
