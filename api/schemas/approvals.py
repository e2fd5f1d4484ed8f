"""Approval: an order's review levels and decisions, reminders and escalations, the
approval policy, delegations, and the approvals waiting on the caller."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.examples import (
    DECISION_EXAMPLE,
    MANAGER_LEVEL_EXAMPLE,
    NOTICE_FIRING_EXAMPLE,
    REVIEW_EXAMPLE,
)
from api.schemas.types import AwareTimestamp, FreeText, SingleLine
from domain.policy import Rule


class DecisionPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [DECISION_EXAMPLE]})

    by: str
    # The approver ``by`` stood in for through a delegation, if any.
    on_behalf_of: str | None = None
    acting_role: str
    decision: str
    comment: str | None
    at: datetime


class SetAsideDecisionPublic(DecisionPublic):
    """A decision of an earlier opening of the level, set aside when an amendment re-opened
    it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{**DECISION_EXAMPLE, "opening": 1, "set_aside_by_version": 2}]
        }
    )

    opening: int
    set_aside_by_version: int = Field(description="The version whose amendment re-opened it.")


class ReviewNoticeFiring(BaseModel):
    """One firing of a level's clock: a reminder, the escalation or the expiry."""

    model_config = ConfigDict(json_schema_extra={"examples": [NOTICE_FIRING_EXAMPLE]})

    kind: str  # reminder | escalation | expiry
    round: int
    role: str
    recipients: list[str]
    at: datetime


class ReviewLevelPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [MANAGER_LEVEL_EXAMPLE]})

    level: int
    role: str
    status: str
    escalated: bool
    escalated_to: str | None
    quorum: int = 1
    opened_at: datetime | None
    decided_at: datetime | None
    opening: int = Field(
        default=1, description="1, then one more each time an amendment re-opened the level."
    )
    decisions: list[DecisionPublic]
    set_aside_decisions: list[SetAsideDecisionPublic] = Field(
        default=[], description="Decisions of earlier openings, set aside by an amendment."
    )
    notices: list[ReviewNoticeFiring] = []


class ReviewPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [REVIEW_EXAMPLE]})

    current_level: int | None
    # The approval policy version and rule the order was reviewed under.
    policy_version: int | None = None
    policy_rule: str | None = None
    levels: list[ReviewLevelPublic]


class DecisionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"decision": "approve", "comment": "Prices as agreed with the customer."},
                {"decision": "reject", "comment": "Discount above what the contract allows."},
            ]
        },
    )

    decision: Literal["approve", "reject"]
    comment: FreeText | None = Field(default=None, max_length=2000)


class ReviewNoticePublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "order_no": "SO-2026-000123",
                    "level": 2,
                    "kind": "reminder",
                    "role": "manager",
                    "at": "2026-11-30T08:55:00Z",
                }
            ]
        }
    )

    order_no: str
    level: int
    kind: str
    role: str
    at: datetime


class PolicyPublic(BaseModel):
    """A version of the approval policy; durations in seconds."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "version": 2,
                    "rules": [
                        {
                            "name": "below 10,000",
                            "when": {"total_below": "10000"},
                            "levels": [{"role": "supervisor", "remind_every": 14400.0}],
                        },
                        {
                            "name": "10,000 to 99,999.99",
                            "when": {"total_min": "10000", "total_below": "100000"},
                            "levels": [{"role": "supervisor"}, {"role": "manager"}],
                        },
                        {
                            "name": "100,000 and more",
                            "when": {"total_min": "100000"},
                            "levels": [
                                {"role": "supervisor"},
                                {"role": "manager"},
                                {"role": "director", "escalate_after": 86400.0},
                            ],
                        },
                    ],
                    "created_by": "ops1",
                    "created_at": "2026-11-28T10:00:00Z",
                }
            ]
        }
    )

    version: int
    rules: list[Rule]
    created_by: str
    created_at: datetime


class DelegationCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "delegate": "sup2",
                    "starts_at": "2026-12-22T00:00:00+08:00",
                    "ends_at": "2027-01-04T00:00:00+08:00",
                    "reason": "annual leave",
                }
            ]
        },
    )

    delegate: SingleLine = Field(
        min_length=1, max_length=64, description="The colleague's username."
    )
    starts_at: AwareTimestamp | None = Field(default=None, description="Leave out to start now.")
    ends_at: AwareTimestamp
    reason: FreeText | None = Field(default=None, max_length=2000)


class DelegationPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 12,
                    "delegator": "sup1",
                    "delegate": "sup2",
                    "roles": ["supervisor"],
                    "starts_at": "2026-12-21T16:00:00Z",
                    "ends_at": "2027-01-03T16:00:00Z",
                    "reason": "annual leave",
                    "revoked_at": None,
                    "created_at": "2026-12-01T09:30:00Z",
                }
            ]
        }
    )

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
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "level": 2,
                    "role": "manager",
                    "escalated": False,
                    "escalated_to": None,
                    "quorum": 1,
                    "opened_at": "2026-11-30T08:40:01Z",
                    "approvals": 0,
                }
            ]
        }
    )

    level: int
    role: str
    escalated: bool
    escalated_to: str | None
    quorum: int
    opened_at: datetime | None
    approvals: int = Field(description="Approvals the level has so far, towards its quorum.")


class CustomerHistoryPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "orders": 14,
                    "total_spend": "412300.00",
                    "on_time_rate": 0.93,
                    "ratings": 9,
                    "average_rating": 4.33,
                }
            ]
        }
    )

    orders: int = Field(description="The customer's orders other than this one, in any status.")
    total_spend: Decimal = Field(description="Sum of the totals of its completed orders.")
    on_time_rate: float | None = Field(
        description="Share of its completed orders that were on time; null when none completed."
    )
    ratings: int = Field(
        default=0, description="Feedback the customer gave on its completed orders."
    )
    average_rating: float | None = Field(
        default=None, description="The mean of those ratings (1 to 5); null when none was given."
    )


class LatestAmendmentPublic(BaseModel):
    """The order's latest amendment, as an approver weighs it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "version": 2,
                    "amended_by": "sales1",
                    "reason": "amendment request #7: our project needs twice the pumps",
                    "at": "2026-12-02T09:30:00Z",
                    "changes": [{"field": "lines[1].quantity", "before": 50, "after": 100}],
                }
            ]
        }
    )

    version: int
    amended_by: str
    reason: str
    at: datetime
    # Plain objects: the diff's own model lives with the order's versions, which this module
    # cannot import (the order schemas import the review's).
    changes: list[dict[str, Any]] = Field(
        description="The field-level diff it made, each `{field, before, after}` as "
        "`GET .../versions` shows it."
    )


class PendingApprovalPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "order_no": "SO-2026-000123",
                    "customer_id": 1,
                    "customer_code": "ACME",
                    "customer_name": "Acme Industrial Co.",
                    "total": "94900.00",
                    "currency": "CNY",
                    "created_by": "sales1",
                    "created_at": "2026-11-30T08:15:00Z",
                    "level": {
                        "level": 2,
                        "role": "manager",
                        "escalated": False,
                        "escalated_to": None,
                        "quorum": 1,
                        "opened_at": "2026-11-30T08:40:01Z",
                        "approvals": 0,
                    },
                    "acting_as": "manager",
                    "on_behalf_of": None,
                    "customer_history": {
                        "orders": 14,
                        "total_spend": "412300.00",
                        "on_time_rate": 0.93,
                        "ratings": 9,
                        "average_rating": 4.33,
                    },
                    "latest_amendment": {
                        "version": 2,
                        "amended_by": "sales1",
                        "reason": "customer doubles the pumps",
                        "at": "2026-11-30T08:40:00Z",
                        "changes": [{"field": "lines[1].quantity", "before": 50, "after": 100}],
                    },
                }
            ]
        }
    )

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
    latest_amendment: LatestAmendmentPublic | None = Field(
        default=None,
        description="The order's latest amendment, with the field-level diff it made, so the "
        "approver sees what changed since the order was entered (or last decided); null when "
        "the order was never amended.",
    )
