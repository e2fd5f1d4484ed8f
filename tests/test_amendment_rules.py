"""Which review levels an amendment re-opens, and the diff each version of an order keeps:
the pure rules of ``domain/amendments.py``, each change kind against the default ladder and a
policy with discount and category rules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.amendments import (
    LevelBefore,
    LineVersion,
    OrderVersion,
    diff,
    review_after,
)
from domain.policy import Conditions, LevelSpec, OrderFacts, PolicyDocument, Rule, default_policy

D = Decimal
NORMAL = frozenset({"normal"})


def facts(
    total: str, *, discount: str = "0", categories: tuple[str, ...] = ("pumps",)
) -> OrderFacts:
    return OrderFacts(D(total), D(discount), NORMAL, frozenset(categories))


def approved(level: int, role: str, approvals: int = 1) -> LevelBefore:
    return LevelBefore(level, role, "approved", approvals)


def outcome(review: object) -> list[tuple[str, bool, bool]]:
    return [(lv.spec.role, lv.keeps_decisions, lv.approved) for lv in review.levels]  # type: ignore[attr-defined]


LADDER = default_policy()
# A discount of 10 % or more needs finance after the supervisor; hazardous goods need the
# director after the supervisor; everything else the default ladder.
RULES = PolicyDocument(
    rules=[
        Rule(
            name="hazardous",
            when=Conditions(categories=["hazmat"]),
            levels=[LevelSpec(role="supervisor"), LevelSpec(role="director")],
        ),
        Rule(
            name="discounted",
            when=Conditions(discount_min=D(10)),
            levels=[LevelSpec(role="supervisor"), LevelSpec(role="finance")],
        ),
        *LADDER.rules,
    ]
)


def test_a_change_within_the_band_keeps_every_approval() -> None:
    review = review_after(
        LADDER, "below 10,000", facts("8000"), facts("9000"), [approved(1, "supervisor")]
    )
    assert outcome(review) == [("supervisor", True, True)]
    assert review.approved() and review.dropped == []


def test_raising_the_total_past_its_band_reopens_the_level_and_opens_the_next() -> None:
    review = review_after(
        LADDER, "below 10,000", facts("8000"), facts("15000"), [approved(1, "supervisor")]
    )
    assert review.rule == "10,000 to 99,999.99"
    assert outcome(review) == [("supervisor", False, False), ("manager", False, False)]
    assert not review.approved()


def test_lowering_the_total_keeps_what_is_still_needed_and_drops_the_rest() -> None:
    before = [approved(1, "supervisor"), approved(2, "manager")]
    review = review_after(LADDER, "10,000 to 99,999.99", facts("15000"), facts("5000"), before)
    assert outcome(review) == [("supervisor", True, True)]
    assert review.dropped == [2]


def test_raising_a_discount_opens_only_the_level_its_rule_adds() -> None:
    review = review_after(
        RULES,
        "below 10,000",
        facts("8000", discount="2"),
        facts("8000", discount="12"),
        [approved(1, "supervisor")],
    )
    assert review.rule == "discounted"
    assert outcome(review) == [("supervisor", True, True), ("finance", False, False)]


def test_raising_a_discount_within_its_band_keeps_the_finance_approval() -> None:
    before = [approved(1, "supervisor"), approved(2, "finance")]
    review = review_after(
        RULES, "discounted", facts("8000", discount="12"), facts("8000", discount="15"), before
    )
    assert outcome(review) == [("supervisor", True, True), ("finance", True, True)]


def test_a_category_with_a_level_of_its_own_opens_that_level() -> None:
    review = review_after(
        RULES,
        "below 10,000",
        facts("8000"),
        facts("8000", categories=("pumps", "hazmat")),
        [approved(1, "supervisor")],
    )
    assert review.rule == "hazardous"
    assert outcome(review) == [("supervisor", True, True), ("director", False, False)]


def test_a_role_asked_at_another_place_decides_again() -> None:
    """Level 2 was the manager's; the amended order asks the director there."""
    before = [approved(1, "supervisor"), approved(2, "manager")]
    review = review_after(
        RULES,
        "10,000 to 99,999.99",
        facts("20000"),
        facts("20000", categories=("pumps", "hazmat")),
        before,
    )
    assert outcome(review) == [("supervisor", True, True), ("director", False, False)]


def test_an_undecided_level_keeps_its_approvals_and_a_larger_quorum_asks_for_more() -> None:
    quorum_two = PolicyDocument(
        rules=[Rule(name="all", levels=[LevelSpec(role="supervisor", quorum=2)])]
    )
    pending = [LevelBefore(1, "supervisor", "pending", 1)]
    review = review_after(quorum_two, "all", facts("100"), facts("200"), pending)
    assert outcome(review) == [("supervisor", True, False)]
    # Approved by one when one was enough; the policy now asks two.
    review = review_after(
        quorum_two, "gone", facts("100"), facts("50"), [approved(1, "supervisor")]
    )
    assert outcome(review) == [("supervisor", True, False)]


def test_the_diff_names_every_changed_field_and_nothing_else() -> None:
    before = OrderVersion(
        lines=(LineVersion(1, "PUMP", 5, D("10.00")), LineVersion(2, "VALVE", 2, D("3.50"))),
        requested_delivery_date=date(2027, 1, 15),
        notes=None,
    )
    after = OrderVersion(
        lines=(LineVersion(1, "PUMP", 8, D("10.00")), LineVersion(3, "MOTOR", 1, None)),
        requested_delivery_date=date(2027, 1, 15),
        notes="dock 4",
    )
    assert diff(before, after) == [
        {"field": "lines[1].quantity", "before": 5, "after": 8},
        {
            "field": "lines[2]",
            "before": {"sku": "VALVE", "quantity": 2, "unit_price": "3.50"},
            "after": None,
        },
        {
            "field": "lines[3]",
            "before": None,
            "after": {"sku": "MOTOR", "quantity": 1, "unit_price": None},
        },
        {"field": "notes", "before": None, "after": "dock 4"},
    ]
    assert diff(before, before) == []
