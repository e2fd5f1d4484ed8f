"""The approval policy as data: ordered rules, each with conditions and the review levels it
asks for. Ops change it through the API; every change is a new version, and an order keeps the
version it was reviewed under.

How a policy applies to an order: the rules are tried in order and the first whose conditions
all hold decides the levels. Conditions, each optional (left out means "any"):

- ``total_min`` ≤ order total < ``total_below`` (CNY);
- ``discount_min`` ≤ the order's largest line discount against the price list, in percent,
  < ``discount_below``;
- ``customer_risk``: any of ``new`` (no completed order yet), ``near_limit`` (this order takes
  the customer's open orders above 80% of its credit limit) or ``normal`` (neither);
- ``categories``: the order has a line of one of these product categories.

What makes a policy consistent (a ``PUT`` that breaks any of this changes nothing):

- at least one rule, every rule with at least one level and conditions that can hold;
- known approver roles, quorum of at least one, positive durations, expiry after escalation;
- the baseline, the rules with no condition but the total, covers every total exactly once:
  from 0 up, without gaps or overlapping bands, so every order finds its levels;
- no two rules with the same other conditions have overlapping total bands.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from config import parse_duration
from domain.roles import APPROVER_ROLES, Role

Risk = Literal["new", "near_limit", "normal"]
RISKS: tuple[Risk, ...] = ("new", "near_limit", "normal")
# Exposure above this share of the credit limit makes a customer "near_limit".
NEAR_LIMIT_SHARE = Decimal("0.8")

Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(lambda d: d.total_seconds(), return_type=float),
]
POLICY_ROLES = sorted(role.value for role in (*APPROVER_ROLES, Role.OPS))


class LevelSpec(BaseModel):
    """One review level: who decides, how many of them, and its clocks.

    Durations are seconds or ISO-8601; left out, the deployment's defaults apply
    (``REMIND_AFTER``, ``ESCALATE_AFTER``, ``EXPIRE_AFTER``, ``REMINDER_LIMIT``).
    """

    model_config = ConfigDict(extra="forbid")

    role: str
    quorum: int = Field(default=1, description="Distinct approvers who must approve.")
    remind_every: Duration | None = None
    escalate_after: Duration | None = None
    expire_after: Duration | None = None
    reminder_limit: int | None = Field(
        default=None, description="Reminders per round before the level falls silent."
    )


class Conditions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    total_min: Decimal | None = None
    total_below: Decimal | None = None
    discount_min: Decimal | None = None
    discount_below: Decimal | None = None
    customer_risk: list[Risk] | None = None
    categories: list[str] | None = None

    def is_baseline(self) -> bool:
        """Only the total matters: the rule is part of the amount bands every order falls in."""
        return (
            self.discount_min is None
            and self.discount_below is None
            and self.customer_risk is None
            and self.categories is None
        )

    def others(self) -> tuple[object, ...]:
        """Everything but the total band, to compare rules that differ only by amount."""
        return (
            self.discount_min,
            self.discount_below,
            tuple(sorted(self.customer_risk)) if self.customer_risk is not None else None,
            tuple(sorted(self.categories)) if self.categories is not None else None,
        )


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    when: Conditions = Field(default_factory=Conditions)
    levels: list[LevelSpec]


class PolicyDocument(BaseModel):
    """What ``PUT /approval-policy`` takes."""

    model_config = ConfigDict(extra="forbid")

    rules: list[Rule] = Field(max_length=100)


@dataclass(frozen=True)
class OrderFacts:
    """What the conditions look at, gathered from the order when its review starts."""

    total: Decimal
    largest_discount: Decimal  # percent
    risks: frozenset[str]
    categories: frozenset[str]


def matches(when: Conditions, facts: OrderFacts) -> bool:
    return (
        (when.total_min is None or facts.total >= when.total_min)
        and (when.total_below is None or facts.total < when.total_below)
        and (when.discount_min is None or facts.largest_discount >= when.discount_min)
        and (when.discount_below is None or facts.largest_discount < when.discount_below)
        and (when.customer_risk is None or bool(facts.risks & set(when.customer_risk)))
        and (when.categories is None or bool(facts.categories & set(when.categories)))
    )


def rule_for(document: PolicyDocument, facts: OrderFacts) -> Rule:
    """The first rule whose conditions hold; a consistent policy always has one."""
    for rule in document.rules:
        if matches(rule.when, facts):
            return rule
    raise LookupError("no rule of the approval policy applies to this order")


def customer_risks(
    *, has_completed_order: bool, exposure: Decimal, limit: Decimal
) -> frozenset[str]:
    risks: set[str] = set()
    if not has_completed_order:
        risks.add("new")
    if exposure > limit * NEAR_LIMIT_SHARE:
        risks.add("near_limit")
    return frozenset(risks or {"normal"})


def inconsistencies(document: PolicyDocument) -> list[str]:
    """Every reason the policy cannot be used, in words for the person who wrote it."""
    problems: list[str] = []
    if not document.rules:
        return ["the policy has no rules"]
    names = [rule.name for rule in document.rules]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"more than one rule is called {name!r}")
    for rule in document.rules:
        problems.extend(_rule_problems(rule))
    problems.extend(_band_problems(document.rules))
    return problems


def _rule_problems(rule: Rule) -> Iterable[str]:
    where = f"rule {rule.name!r}"
    when = rule.when
    if not rule.levels:
        yield f"{where} asks for no review level"
    if _empty_band(when.total_min, when.total_below):
        yield f"{where}: total_min must be below total_below"
    if _empty_band(when.discount_min, when.discount_below):
        yield f"{where}: discount_min must be below discount_below"
    if when.customer_risk is not None and not when.customer_risk:
        yield f"{where}: customer_risk lists no risk, so the rule can never apply"
    if when.categories is not None and not when.categories:
        yield f"{where}: categories lists no category, so the rule can never apply"
    for value, label in ((when.total_min, "total_min"), (when.discount_min, "discount_min")):
        if value is not None and value < 0:
            yield f"{where}: {label} cannot be negative"
    for number, level in enumerate(rule.levels, start=1):
        at = f"{where}, level {number}"
        if level.role not in POLICY_ROLES:
            yield f"{at}: unknown role {level.role!r} (one of {', '.join(POLICY_ROLES)})"
        if level.quorum < 1:
            yield f"{at}: quorum must be at least 1, got {level.quorum}"
        if level.reminder_limit is not None and not 0 <= level.reminder_limit <= 100:
            yield f"{at}: reminder_limit must be from 0 to 100, got {level.reminder_limit}"
        for label in ("remind_every", "escalate_after", "expire_after"):
            duration = getattr(level, label)
            if duration is not None and duration <= timedelta(0):
                yield f"{at}: {label} must be positive"
        if (
            level.expire_after is not None
            and level.escalate_after is not None
            and level.expire_after <= level.escalate_after
        ):
            yield f"{at}: expire_after must come after escalate_after"
    roles = [level.role for level in rule.levels]
    for role in sorted({r for r in roles if roles.count(r) > 1}):
        yield f"{where} asks the {role} role for more than one level"


def _empty_band(low: Decimal | None, below: Decimal | None) -> bool:
    return low is not None and below is not None and low >= below


def _band_problems(rules: list[Rule]) -> Iterable[str]:
    groups: dict[tuple[object, ...], list[Rule]] = {}
    for rule in rules:
        groups.setdefault(rule.when.others(), []).append(rule)
    for group in groups.values():
        ordered = sorted(group, key=lambda r: r.when.total_min or Decimal(0))
        for first, second in itertools.pairwise(ordered):
            first_end = first.when.total_below
            if first_end is None or (second.when.total_min or Decimal(0)) < first_end:
                yield f"rules {first.name!r} and {second.name!r} overlap in total"
    baseline = sorted(
        (rule for rule in rules if rule.when.is_baseline()),
        key=lambda r: r.when.total_min or Decimal(0),
    )
    if not baseline:
        yield "no rule applies by total alone, so some orders would find no review levels"
        return
    reached = Decimal(0)
    for rule in baseline:
        start = rule.when.total_min or Decimal(0)
        if start > reached:
            yield f"no rule covers totals from {reached} to {start}"
        if rule.when.total_below is None:
            return
        reached = max(reached, rule.when.total_below)
    yield f"no rule covers totals of {reached} and more"


def default_policy() -> PolicyDocument:
    """The design's default, version 1: each amount band adds one level up the ladder."""
    ladder = [Role.SUPERVISOR, Role.MANAGER, Role.DIRECTOR]
    bands = [
        ("below 10,000", None, Decimal("10000")),
        ("10,000 to 99,999.99", Decimal("10000"), Decimal("100000")),
        ("100,000 and more", Decimal("100000"), None),
    ]
    return PolicyDocument(
        rules=[
            Rule(
                name=name,
                when=Conditions(total_min=low, total_below=below),
                levels=[LevelSpec(role=role.value) for role in ladder[: index + 1]],
            )
            for index, (name, low, below) in enumerate(bands)
        ]
    )
