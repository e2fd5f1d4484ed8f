"""What ``PUT /approval-policy`` takes: the domain's policy document with every value a
caller writes bounded at the edge.

The domain models (``domain/policy.py``) say what a policy means and how it applies; these
subclasses only narrow the types of their fields, so a document that passes here is one of
the domain's, and its rules are stored as JSON and later become review levels, Temporal
timers and ``integer`` columns without surprises.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, ConfigDict, Field

from api.schemas.types import Money, Percent, SingleLine, StrictInt32
from config import parse_duration
from domain.policy import Conditions, Duration, LevelSpec, PolicyDocument, Risk, Rule

# A review clock longer than a year is a typing mistake, not a policy.
MAX_CLOCK = timedelta(days=366)
MAX_RULES = 100
MAX_LEVELS = 10
MAX_CATEGORIES = 50


def _clock(value: object) -> timedelta:
    """Parse a duration as the domain does, refusing what no timer could wait for."""
    if isinstance(value, bool):
        raise ValueError("a duration is seconds or ISO-8601, not true or false")
    try:
        duration = parse_duration(value)
    except OverflowError:
        raise ValueError("the duration is far too long") from None
    if abs(duration) > MAX_CLOCK:
        raise ValueError(f"a clock runs for at most {MAX_CLOCK.days} days")
    return duration


Clock = Annotated[Duration, BeforeValidator(_clock)]


class LevelSpecCreate(LevelSpec):
    role: SingleLine = Field(max_length=32)
    quorum: StrictInt32 = Field(default=1, description="Distinct approvers who must approve.")
    remind_every: Clock | None = None
    escalate_after: Clock | None = None
    expire_after: Clock | None = None
    reminder_limit: StrictInt32 | None = Field(
        default=None, description="Reminders per round before the level falls silent."
    )


class ConditionsCreate(Conditions):
    total_min: Money | None = None
    total_below: Money | None = None
    discount_min: Percent | None = None
    discount_below: Percent | None = None
    customer_risk: list[Risk] | None = Field(default=None, max_length=3)
    categories: list[Annotated[SingleLine, Field(max_length=64)]] | None = Field(
        default=None, max_length=MAX_CATEGORIES
    )


class RuleCreate(Rule):
    name: SingleLine = Field(min_length=1, max_length=100)
    when: ConditionsCreate = Field(default_factory=ConditionsCreate)
    levels: list[LevelSpecCreate] = Field(max_length=MAX_LEVELS)  # type: ignore[assignment]


class PolicyDocumentCreate(PolicyDocument):
    """What ``PUT /approval-policy`` takes; see ``domain/policy.py`` for what makes it
    consistent."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "rules": [
                        {
                            "name": "below 10,000",
                            "when": {"total_below": "10000"},
                            "levels": [{"role": "supervisor", "remind_every": "PT4H"}],
                        },
                        {
                            "name": "10,000 to 99,999.99",
                            "when": {"total_min": "10000", "total_below": "100000"},
                            "levels": [
                                {"role": "supervisor", "remind_every": "PT4H"},
                                {
                                    "role": "manager",
                                    "remind_every": "PT4H",
                                    "escalate_after": "PT24H",
                                },
                            ],
                        },
                        {
                            "name": "100,000 and more",
                            "when": {"total_min": "100000"},
                            "levels": [
                                {"role": "supervisor"},
                                {"role": "manager"},
                                {"role": "director", "quorum": 1, "escalate_after": 86400},
                            ],
                        },
                    ]
                }
            ]
        }
    )

    rules: list[RuleCreate] = Field(max_length=MAX_RULES)  # type: ignore[assignment]
