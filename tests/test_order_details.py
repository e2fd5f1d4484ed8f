"""What the Temporal UI shows of an order (``workflows/order/details.py``): plain functions of
the order's state, tested without a server. The UI renders the details as markdown, where a
single newline does not end a line: each fact must be an item of its own."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.production import StepState, WorkOrderState
from domain.review import LevelState
from domain.statuses import OrderStatus
from workflows.messages import OrderState
from workflows.order.details import level_under_review, render_details, waiting_role
from workflows.search_attributes import OPS_FAULT, WAITING_ON_VALUES

S = OrderStatus
SINCE = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def two_level_review(*, escalated: bool = False) -> OrderState:
    supervisor = LevelState(level=1, role="supervisor", status="approved")
    manager = LevelState(level=2, role="manager", status="pending", reminders=2)
    if escalated:
        manager.escalated, manager.escalated_to = True, "director"
    return OrderState(
        order_no="SO-2026-000042",
        status=S.UNDER_REVIEW,
        since=SINCE,
        policy="version 3, rule 'default'",
        total="25000.00",
        current_level=2,
        levels=[supervisor, manager],
    )


def shipped_after_production() -> OrderState:
    state = two_level_review()
    state.status, state.current_level = S.SHIPPED, 0
    for level in state.levels:
        level.status = "approved"
    state.tracking_no = "TRK-0000123456789"
    state.work_orders = [
        WorkOrderState(
            work_order_no=f"WO-2026-00000{n}",
            sku="GEAR-500",
            line="LINE-A",
            quantity=120,
            planned_start=SINCE,
            planned_finish=datetime(2026, 12, 2, 17, 45, tzinfo=UTC),
            steps=[StepState("prepare", "completed"), StepState("assemble", "completed")],
            status="completed",
            finished_at=datetime(2026, 12, 2, 16, 0, tzinfo=UTC),
        )
        for n in (1, 2)
    ]
    return state


def blocks(details: str) -> list[str]:
    """The markdown blocks: what a blank line separates."""
    return details.split("\n\n")


def test_each_fact_is_an_item_of_its_own_and_the_levels_follow_under_review() -> None:
    details = render_details(two_level_review())
    facts, levels, rest = blocks(details)
    assert facts.splitlines() == [
        "- **Status:** UNDER_REVIEW",
        "- **Waiting on:** manager approval, level 2 of 2",
        "- **Since:** 2026-12-01T09:30:00+00:00",
        "- **Total:** 25,000.00",
    ]
    # Under review the level table comes right after the facts, in the panel's first lines.
    assert levels.splitlines() == [
        "| level | role | status | approvals | reminders | expiries |",
        "| --: | --- | --- | :-: | --: | --: |",
        "| 1 | supervisor | approved | 0/1 | 0 | 0 |",
        "| 2 | manager | pending | 0/1 | 2 | 0 |",
    ]
    assert rest == "- **Approval policy:** version 3, rule 'default'"


def test_an_escalated_level_shows_both_roles_in_words_and_in_its_row() -> None:
    details = render_details(two_level_review(escalated=True))
    assert "- **Waiting on:** manager or director (escalated) approval, level 2 of 2" in details
    assert "| 2 | manager → director | pending | 0/1 | 2 | 0 |" in details


def test_past_review_tracking_and_production_lead_and_the_tables_stay_narrow() -> None:
    details = render_details(shipped_after_production())
    facts, work_orders, levels, policy = blocks(details)
    # The tracking number is a fact of its own, ahead of every table: never cut off by one.
    assert "- **Tracking:** TRK-0000123456789" in facts.splitlines()
    assert (
        "- **Production:** 4/4 steps (100%), planned finish 2026-12-02T17:45+00:00, "
        "actual finish 2026-12-02T16:00+00:00" in facts.splitlines()
    )
    assert work_orders.splitlines()[2:] == [
        "| WO-2026-000001 | GEAR-500 | LINE-A | 120 | 12-02 17:45 | completed |",
        "| WO-2026-000002 | GEAR-500 | LINE-A | 120 | 12-02 17:45 | completed |",
    ]
    assert levels.splitlines()[2] == "| 1 | supervisor | approved | 0/1 | 0 | 0 |"
    assert policy == "- **Approval policy:** version 3, rule 'default'"
    # Short columns: a row of either table fits a narrow details panel.
    assert max(len(row) for row in [*levels.splitlines(), *work_orders.splitlines()]) <= 72


def test_an_order_held_by_a_fault_says_so_and_names_the_step() -> None:
    state = two_level_review()
    state.status, state.held_from = S.ON_HOLD, S.UNDER_REVIEW
    state.fault = "system fault: record_decision: DataError value too long"
    facts = blocks(render_details(state))[0].splitlines()
    assert facts[:6] == [
        "- **Status:** ON_HOLD",
        "- **Waiting on:** ops to resume or cancel (system fault)",
        "- **Since:** 2026-12-01T09:30:00+00:00",
        "- **Total:** 25,000.00",
        "- **Resumes to:** UNDER_REVIEW",
        "- **Held by:** system fault: record_decision: DataError value too long",
    ]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (S.CREATED, "validation"),
        (S.APPROVED, "production"),
        (S.IN_PRODUCTION, "production"),
        (S.AWAITING_SHIPMENT, "logistics"),
        (S.SHIPPED, "carrier"),
        (S.DELIVERED, "customer"),
        (S.ON_HOLD, "ops"),
        (S.COMPLETED, None),
        (S.REJECTED, None),
        (S.CANCELLED, None),
    ],
)
def test_waiting_on_names_the_party_of_each_stage_and_nobody_once_closed(
    status: OrderStatus, expected: str | None
) -> None:
    assert waiting_role(status, None, fault=False) == expected
    assert expected is None or expected in WAITING_ON_VALUES


def test_waiting_on_under_review_is_the_level_role_and_moves_with_an_escalation() -> None:
    state = two_level_review()
    assert waiting_role(S.UNDER_REVIEW, level_under_review(state), fault=False) == "manager"
    escalated = two_level_review(escalated=True)
    assert waiting_role(S.UNDER_REVIEW, level_under_review(escalated), fault=False) == "director"
    director = LevelState(level=3, role="director", escalated=True, escalated_to="ops")
    assert waiting_role(S.UNDER_REVIEW, director, fault=False) == "ops"


def test_a_fault_hold_waits_on_ops_with_a_value_of_its_own() -> None:
    assert waiting_role(S.ON_HOLD, None, fault=True) == OPS_FAULT
    assert OPS_FAULT != "ops" and OPS_FAULT in WAITING_ON_VALUES
