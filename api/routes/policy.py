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


@router.get("/approval-policy", response_model=PolicyPublic, responses=responses(NotFound))
async def get_policy(
    _: Staff, session: SessionDep, version: Annotated[Id | None, Query()] = None
) -> PolicyPublic:
    """The policy in force, or an earlier ``version`` (the one an order was reviewed under)."""
    return _public(await service.policy_version(session, version))


@router.put(
    "/approval-policy",
    response_model=PolicyPublic,
    responses=responses(InvalidRequest, Conflict),
)
async def put_policy(
    document: PolicyDocumentCreate, user: Ops, session: SessionDep
) -> PolicyPublic:
    """Save a new version. Rules are tried in order, the first that applies decides the
    levels; an inconsistent policy (see ``domain/policy.py``) answers 422 and changes nothing."""
    return _public(await service.replace_policy(session, user, document))
