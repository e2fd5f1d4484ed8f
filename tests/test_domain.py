"""Pure domain rules: the approval policy, legal transitions and configured durations."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from config import parse_duration
from domain.policy import OrderFacts, default_policy, rule_for
from domain.roles import Role, escalation_target
from domain.statuses import OrderStatus, can_cancel, can_hold, can_transition
from domain.text import storable

S = OrderStatus


@pytest.mark.parametrize(
    ("total", "levels"),
    [
        ("0.01", [Role.SUPERVISOR]),
        ("9999.99", [Role.SUPERVISOR]),
        ("10000", [Role.SUPERVISOR, Role.MANAGER]),
        ("99999.99", [Role.SUPERVISOR, Role.MANAGER]),
        ("100000", [Role.SUPERVISOR, Role.MANAGER, Role.DIRECTOR]),
        ("2500000", [Role.SUPERVISOR, Role.MANAGER, Role.DIRECTOR]),
    ],
)
def test_default_policy_levels_follow_the_amount_thresholds(total: str, levels: list[Role]) -> None:
    facts = OrderFacts(Decimal(total), Decimal(0), frozenset({"normal"}), frozenset())
    rule = rule_for(default_policy(), facts)
    assert [level.role for level in rule.levels] == [role.value for role in levels]


def test_escalation_climbs_one_role_and_stops_at_ops() -> None:
    assert [escalation_target(r) for r in (Role.SUPERVISOR, Role.MANAGER, Role.DIRECTOR)] == [
        Role.MANAGER,
        Role.DIRECTOR,
        Role.OPS,
    ]
    assert escalation_target(Role.OPS) == Role.OPS


def test_only_the_designed_transitions_are_legal() -> None:
    assert can_transition(S.CREATED, S.UNDER_REVIEW)
    assert can_transition(S.APPROVED, S.AWAITING_SHIPMENT)
    assert not can_transition(S.CREATED, S.APPROVED)
    assert not can_transition(S.DELIVERED, S.CANCELLED)
    assert not any(can_transition(S.COMPLETED, target) for target in S)


def test_cancel_and_hold_stop_at_shipping() -> None:
    assert can_cancel(S.AWAITING_SHIPMENT)
    assert not can_cancel(S.SHIPPED)
    assert can_cancel(S.ON_HOLD, held_from=S.IN_PRODUCTION)
    assert not can_cancel(S.ON_HOLD, held_from=S.SHIPPED)
    assert can_hold(S.SHIPPED) and not can_hold(S.DELIVERED) and not can_hold(S.CREATED)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90", timedelta(seconds=90)),
        ("1.5", timedelta(seconds=1.5)),
        ("PT4H", timedelta(hours=4)),
        ("P7D", timedelta(days=7)),
        ("P1DT2H30M", timedelta(days=1, hours=2, minutes=30)),
        ("pt2s", timedelta(seconds=2)),
    ],
)
def test_durations_accept_seconds_or_iso_8601(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "P", "PT", "4 hours", "P1W"])
def test_durations_refuse_anything_else(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_text_from_outside_is_made_storable() -> None:
    assert storable("tab\tand\nnewline stay") == "tab\tand\nnewline stay"
    assert (
        storable("nul\x00 esc\x1b del\x7f lone\ud800") == "nul\ufffd esc\ufffd del\ufffd lone\ufffd"
    )
    assert storable("naïve 中文 ✓") == "naïve 中文 ✓"
