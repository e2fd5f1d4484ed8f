"""Review rules without Temporal: who may decide a level, what a decision does, when clocks fire."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.refusals import Refusal, RefusalKind
from domain.review import (
    ClockDefaults,
    Decider,
    DecisionState,
    LevelState,
    acting_role,
    check_decision,
    escalate,
    next_firing,
)

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DEFAULTS = ClockDefaults(remind_after=60, escalate_after=300, expire_after=None, reminder_limit=3)


def decider(name: str, *roles: str, delegated: dict[str, str] | None = None) -> Decider:
    return Decider(name, list(roles), delegated or {})


def levels(*roles: str) -> list[LevelState]:
    made = [LevelState(level=i, role=role) for i, role in enumerate(roles, start=1)]
    made[0].status = "pending"
    return made


def refusal(kind: RefusalKind, call: object) -> str:
    assert callable(call)
    with pytest.raises(Refusal) as raised:
        call()
    assert raised.value.kind == kind
    return raised.value.message


def test_an_approver_of_the_levels_role_approves_it() -> None:
    review = levels("supervisor", "manager")
    verdict = check_decision(
        review,
        review[0],
        decider("sup1", "supervisor"),
        decision="approve",
        comment=None,
        created_by="sales1",
    )
    assert (verdict.acting_role, verdict.on_behalf_of, verdict.level_status) == (
        "supervisor",
        None,
        "approved",
    )


def test_a_quorum_level_stays_pending_until_enough_approve() -> None:
    review = levels("finance")
    review[0].quorum = 2
    first = check_decision(
        review,
        review[0],
        decider("fin1", "finance"),
        decision="approve",
        comment=None,
        created_by="sales1",
    )
    assert first.level_status == "pending"
    review[0].decisions.append(DecisionState("fin1", "approve", None, AT))
    second = check_decision(
        review,
        review[0],
        decider("fin2", "finance"),
        decision="approve",
        comment=None,
        created_by="sales1",
    )
    assert second.level_status == "approved"


def test_refusals_name_the_rule_that_was_broken() -> None:
    review = levels("supervisor", "manager")

    def decide(who: Decider, decision: str = "approve", comment: str | None = None) -> None:
        check_decision(
            review, review[0], who, decision=decision, comment=comment, created_by="boss"
        )

    assert "approve' or 'reject" in refusal(
        RefusalKind.INVALID, lambda: decide(decider("sup1", "supervisor"), "maybe")
    )
    assert "needs a comment" in refusal(
        RefusalKind.INVALID, lambda: decide(decider("sup1", "supervisor"), "reject", "  ")
    )
    assert "supervisor role" in refusal(
        RefusalKind.FORBIDDEN, lambda: decide(decider("mgr1", "manager"))
    )
    assert "entered" in refusal(
        RefusalKind.FORBIDDEN, lambda: decide(decider("boss", "supervisor"))
    )
    # A delegate standing in for the creator is the creator deciding.
    assert "entered" in refusal(
        RefusalKind.FORBIDDEN,
        lambda: decide(decider("mgr1", "manager", delegated={"supervisor": "boss"})),
    )
    review[0].status = "approved"
    assert "already decided" in refusal(
        RefusalKind.CONFLICT, lambda: decide(decider("sup1", "supervisor"))
    )


def test_one_person_decides_one_level_even_through_a_delegation() -> None:
    review = levels("supervisor", "manager")
    review[0].status = "approved"
    review[0].decisions.append(DecisionState("sup1", "approve", None, AT, on_behalf_of="sup2"))
    review[1].status = "pending"
    for who in (
        decider("sup1", "manager"),
        decider("dir1", "director", delegated={"manager": "sup2"}),
    ):
        message = refusal(
            RefusalKind.FORBIDDEN,
            lambda who=who: check_decision(
                review, review[1], who, decision="approve", comment=None, created_by="sales1"
            ),
        )
        assert "one person decides one level" in message


def test_own_role_comes_before_a_lent_one_and_escalation_widens_the_deciders() -> None:
    level = LevelState(level=1, role="supervisor", status="pending")
    both = decider("x", "supervisor", delegated={"supervisor": "sup9"})
    assert acting_role(level, both) == ("supervisor", None)
    lent = decider("mgr1", "manager", delegated={"supervisor": "sup9"})
    assert acting_role(level, lent) == ("supervisor", "sup9")
    escalate(level)
    assert level.deciders() == ["supervisor", "manager"]
    assert acting_role(level, decider("mgr1", "manager")) == ("manager", None)


def test_reminders_stop_at_the_limit_then_escalation_then_nothing() -> None:
    level = LevelState(level=1, role="supervisor", status="pending")
    fired = []
    while (firing := next_firing(level, DEFAULTS)) is not None:
        fired.append((firing.kind, firing.after))
        if firing.kind == "reminder":
            level.round_reminders += 1
        else:
            escalate(level)
    assert fired == [
        ("reminder", 60),
        ("reminder", 120),
        ("reminder", 180),
        ("escalation", 300),
    ]


def test_the_policy_of_a_level_overrides_the_defaults_and_expiry_ends_the_round() -> None:
    level = LevelState(
        level=1,
        role="finance",
        status="pending",
        remind_every=10,
        escalate_after=25,
        expire_after=40,
        reminder_limit=1,
    )
    assert next_firing(level, DEFAULTS) == next_firing(level, DEFAULTS)
    firing = next_firing(level, DEFAULTS)
    assert firing is not None and (firing.kind, firing.after) == ("reminder", 10)
    level.round_reminders = 1
    firing = next_firing(level, DEFAULTS)
    assert firing is not None and (firing.kind, firing.after) == ("escalation", 25)
    escalate(level)
    firing = next_firing(level, DEFAULTS)
    assert firing is not None and (firing.kind, firing.after) == ("expiry", 40)


def test_the_default_expiry_never_comes_before_the_levels_escalation() -> None:
    defaults = ClockDefaults(
        remind_after=60, escalate_after=300, expire_after=100, reminder_limit=0
    )
    level = LevelState(level=1, role="supervisor", status="pending", escalate_after=500)
    firing = next_firing(level, defaults)
    assert firing is not None and (firing.kind, firing.after) == ("escalation", 500)
    escalate(level)
    firing = next_firing(level, defaults)
    assert firing is not None and (firing.kind, firing.after) == ("expiry", 500)
