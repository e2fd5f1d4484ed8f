"""The approval policy: reading the version in force and writing a new one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import Conflict, InvalidRequest, NotFound
from db.audit import append_audit
from db.models import ApprovalPolicy, User
from domain.policy import PolicyDocument, inconsistencies


async def policy_version(session: AsyncSession, version: int | None) -> ApprovalPolicy:
    """The given version, or the one in force (the newest)."""
    query = select(ApprovalPolicy)
    if version is None:
        query = query.order_by(ApprovalPolicy.version.desc()).limit(1)
    else:
        query = query.where(ApprovalPolicy.version == version)
    policy = (await session.scalars(query)).one_or_none()
    if policy is None:
        raise NotFound(f"approval policy version {version} does not exist")
    return policy


async def replace_policy(
    session: AsyncSession, user: User, document: PolicyDocument
) -> ApprovalPolicy:
    """Write the document as the next version; an inconsistent one is refused whole.

    Orders already in review keep the version they were planned under.
    """
    problems = inconsistencies(document)
    if problems:
        raise InvalidRequest("the policy is inconsistent: " + "; ".join(problems))
    newest = await session.scalar(select(func.max(ApprovalPolicy.version)))
    policy = ApprovalPolicy(
        version=(newest or 0) + 1,
        rules=_rules_json(document),
        created_by=user.username,
    )
    session.add(policy)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise Conflict("another policy change was saved at the same moment; try again") from None
    await append_audit(
        session,
        kind="policy",
        actor=user.username,
        order_no=None,
        payload={"version": policy.version, "rules": policy.rules},
        at=datetime.now(UTC),
    )
    await session.commit()
    await session.refresh(policy)
    return policy


def _rules_json(document: PolicyDocument) -> list[dict[str, Any]]:
    # Unset conditions and clocks are left out, so a stored version reads like it was written.
    dumped: list[dict[str, Any]] = document.model_dump(mode="json", exclude_none=True)["rules"]
    return dumped
