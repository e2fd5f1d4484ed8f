"""Approval: an order's review levels and decisions, reminders and escalations, the
approval policy, delegations, and the approvals waiting on the caller."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.types import AwareTimestamp, FreeText, SingleLine
from domain.policy import Rule


class DecisionPublic(BaseModel):
    by: str
    # The approver ``by`` stood in for through a delegation, if any.
    on_behalf_of: str | None = None
    acting_role: str
    decision: str
    comment: str | None
    at: datetime


class ReviewNoticeFiring(BaseModel):
    """One firing of a level's clock: a reminder, the escalation or the expiry."""

    kind: str  # reminder | escalation | expiry
    round: int
    role: str
    recipients: list[str]
    at: datetime


class ReviewLevelPublic(BaseModel):
    level: int
    role: str
    status: str
    escalated: bool
    escalated_to: str | None
    quorum: int = 1
    opened_at: datetime | None
    decided_at: datetime | None
    decisions: list[DecisionPublic]
    notices: list[ReviewNoticeFiring] = []


class ReviewPublic(BaseModel):
    current_level: int | None
    # The approval policy version and rule the order was reviewed under.
    policy_version: int | None = None
    policy_rule: str | None = None
    levels: list[ReviewLevelPublic]


class DecisionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject"]
    comment: FreeText | None = Field(default=None, max_length=2000)


class ReviewNoticePublic(BaseModel):
    order_no: str
    level: int
    kind: str
    role: str
    at: datetime


class PolicyPublic(BaseModel):
    """A version of the approval policy; durations in seconds."""

    version: int
    rules: list[Rule]
    created_by: str
    created_at: datetime


class DelegationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delegate: SingleLine = Field(
        min_length=1, max_length=64, description="The colleague's username."
    )
    starts_at: AwareTimestamp | None = Field(default=None, description="Leave out to start now.")
    ends_at: AwareTimestamp
    reason: FreeText | None = Field(default=None, max_length=2000)


class DelegationPublic(BaseModel):
    id: int
    delegator: str
    delegate: str
    roles: list[str] = Field(
        description="The delegator's approver roles the delegate may stand in for, as of now."
    )
    starts_at: datetime
    ends_at: datetime
    reason: str | None
    revoked_at: datetime | None
    created_at: datetime


class PendingLevelPublic(BaseModel):
    level: int
    role: str
    escalated: bool
    escalated_to: str | None
    quorum: int
    opened_at: datetime | None
    approvals: int = Field(description="Approvals the level has so far, towards its quorum.")


class CustomerHistoryPublic(BaseModel):
    orders: int = Field(description="The customer's orders other than this one, in any status.")
    total_spend: Decimal = Field(description="Sum of the totals of its completed orders.")
    on_time_rate: float | None = Field(
        description="Share of its completed orders that were on time; null when none completed."
    )


class PendingApprovalPublic(BaseModel):
    order_no: str
    customer_id: int
    customer_code: str
    customer_name: str
    total: Decimal | None
    currency: str
    created_by: str
    created_at: datetime
    level: PendingLevelPublic
    acting_as: str | None = Field(
        description="The role the caller would decide the level in; null when ops sees a level "
        "it watches but may not decide (it waits on ``level.role``, or ``level.escalated_to``)."
    )
    on_behalf_of: str | None = Field(
        description="The approver the caller stands in for; null when deciding in an own role."
    )
    customer_history: CustomerHistoryPublic
