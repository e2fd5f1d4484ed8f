"""Amendments: what an amendment changes (the field-level diff every version of an order keeps)
and which review levels it re-opens.

Which levels re-open. The amended order is matched against the approval policy version it was
reviewed under, which picks the rule and so the levels it needs. A level keeps its decision
when the decision still covers the amended order:

- the amended review asks the same role at the same place (a decision was given knowing the
  levels before it), with no larger quorum than the approvals it has; and
- the amended order is no riskier than what was approved: it still meets the conditions of
  the rule the decision was taken under (its total band, discount band, risk and categories),
  or nothing the policy looks at grew (total, largest discount, customer risks, categories).

Every other level re-opens, a level the amended order needs for the first time opens, and a
level it no longer needs is dropped. So a change that raises the total past a level's band,
raises a discount, or adds a category with a level of its own re-opens exactly the levels
whose approval no longer covers it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from domain.policy import LevelSpec, OrderFacts, PolicyDocument, Rule, matches, rule_for


@dataclass(frozen=True)
class LineVersion:
    line_no: int
    sku: str
    quantity: int
    unit_price: Decimal | None


@dataclass(frozen=True)
class OrderVersion:
    """What an amendment may change, as it stands in one version of the order."""

    lines: tuple[LineVersion, ...]
    requested_delivery_date: date | None
    notes: str | None


def _plain(value: object) -> Any:
    """A value as the diff stores it in JSON: decimals and dates as text."""
    if isinstance(value, Decimal | date):
        return str(value)
    return value


def diff(before: OrderVersion, after: OrderVersion) -> list[dict[str, Any]]:
    """Every field that differs, ``{"field", "before", "after"}``; a line added or removed
    is one entry whose other side is null."""
    changes: list[dict[str, Any]] = []

    def changed(field: str, old: object, new: object) -> None:
        if old != new:
            changes.append({"field": field, "before": _plain(old), "after": _plain(new)})

    old_lines = {line.line_no: line for line in before.lines}
    new_lines = {line.line_no: line for line in after.lines}
    for line_no in sorted(old_lines.keys() | new_lines.keys()):
        old, new = old_lines.get(line_no), new_lines.get(line_no)
        where = f"lines[{line_no}]"
        if old is None or new is None:
            changed(where, _line(old), _line(new))
            continue
        changed(f"{where}.sku", old.sku, new.sku)
        changed(f"{where}.quantity", old.quantity, new.quantity)
        changed(f"{where}.unit_price", old.unit_price, new.unit_price)
    changed(
        "requested_delivery_date", before.requested_delivery_date, after.requested_delivery_date
    )
    changed("notes", before.notes, after.notes)
    return changes


def _line(line: LineVersion | None) -> dict[str, Any] | None:
    if line is None:
        return None
    return {"sku": line.sku, "quantity": line.quantity, "unit_price": _plain(line.unit_price)}


# ---------------------------------------------------------------------------- review


@dataclass(frozen=True)
class LevelBefore:
    """A review level as it stood before the amendment."""

    level: int
    role: str
    status: str  # waiting | pending | approved | rejected | cancelled
    approvals: int


@dataclass(frozen=True)
class LevelAfter:
    """A level of the amended review: the policy's spec, whether the level keeps the
    decisions it had, and why; ``approved`` when it needs no further decision."""

    level: int
    spec: LevelSpec
    keeps_decisions: bool
    approved: bool
    why: str


@dataclass(frozen=True)
class ReviewAfter:
    rule: str
    levels: list[LevelAfter]
    # Levels of the review before that the amended order no longer needs.
    dropped: list[int]

    def approved(self) -> bool:
        """Every level of the amended review is approved: the review needs nobody."""
        return all(level.approved for level in self.levels)


def no_riskier(after: OrderFacts, before: OrderFacts) -> bool:
    """Nothing the approval policy looks at grew."""
    return (
        after.total <= before.total
        and after.largest_discount <= before.largest_discount
        and after.categories <= before.categories
        and (after.risks <= before.risks or after.risks == frozenset({"normal"}))
    )


def covers(rule: Rule | None, before: OrderFacts, after: OrderFacts) -> bool:
    """Whether a decision taken under ``rule`` on ``before`` still covers ``after``."""
    return (rule is not None and matches(rule.when, after)) or no_riskier(after, before)


def review_after(
    document: PolicyDocument,
    rule_before: str,
    before: OrderFacts,
    after: OrderFacts,
    levels: list[LevelBefore],
) -> ReviewAfter:
    """The review the amended order needs: see the module's docstring for the rules. A
    rejected review is never amended (the order is closed), so no level here was rejected."""
    old_rule = next((rule for rule in document.rules if rule.name == rule_before), None)
    new_rule = rule_for(document, after)
    covered = covers(old_rule, before, after)
    by_number = {level.level: level for level in levels}
    planned: list[LevelAfter] = []
    for number, spec in enumerate(new_rule.levels, start=1):
        old = by_number.get(number)
        if old is None or old.role != spec.role:
            why = f"the amended order needs {spec.role} approval at level {number}"
            planned.append(LevelAfter(number, spec, False, False, why))
        elif not covered:
            why = f"its decisions under rule {rule_before!r} do not cover the amended order"
            planned.append(LevelAfter(number, spec, False, False, why))
        elif old.status != "approved":
            planned.append(LevelAfter(number, spec, True, False, "it was not decided yet"))
        elif old.approvals < spec.quorum:
            why = f"the amended order needs {spec.quorum} approvals, it has {old.approvals}"
            planned.append(LevelAfter(number, spec, True, False, why))
        else:
            planned.append(LevelAfter(number, spec, True, True, "its approval covers the change"))
    dropped = [level.level for level in levels if level.level > len(new_rule.levels)]
    return ReviewAfter(rule=new_rule.name, levels=planned, dropped=dropped)
