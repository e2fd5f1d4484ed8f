"""Shop-floor rules without Temporal: where a report lands, its units, and what is still missing."""

from __future__ import annotations

import pytest

from domain.production import (
    Report,
    StepState,
    WorkOrderState,
    check_report,
    find_step,
    missing_units,
    production_done,
)
from domain.refusals import Refusal, RefusalKind


def work_order(
    no: str, quantity: int = 10, sku: str = "PUMP", status: str = "open"
) -> WorkOrderState:
    return WorkOrderState(
        work_order_no=no,
        sku=sku,
        line="LINE-1",
        quantity=quantity,
        planned_start=None,
        planned_finish=None,
        steps=[StepState("cut"), StepState("weld"), StepState("paint")],
        status=status,
    )


def refused(kind: RefusalKind, work_orders: list[WorkOrderState], report: Report) -> str:
    with pytest.raises(Refusal) as raised:
        check_report(work_orders, report)
    assert raised.value.kind == kind
    return raised.value.message


def test_a_report_without_a_work_order_goes_to_the_first_open_one_needing_the_step() -> None:
    first, second = work_order("WO-1"), work_order("WO-2")
    first.steps[0].status = "completed"
    assert find_step([first, second], Report("cut", "started")) == (second, 0)
    assert find_step([first, second], Report("weld", "started")) == (first, 1)
    first.status = "completed"
    assert find_step([first, second], Report("weld", "started")) == (second, 1)


def test_steps_follow_the_routing() -> None:
    wo = work_order("WO-1")
    message = refused(RefusalKind.CONFLICT, [wo], Report("weld", "started"))
    assert message == "step weld of WO-1 cannot start before step cut is completed"
    assert check_report([wo], Report("cut", "started")).completed is False
    wo.steps[0].status = "started"
    assert "already started" in refused(RefusalKind.CONFLICT, [wo], Report("cut", "started"))
    wo.steps[0].status = "completed"
    assert "already completed" in refused(RefusalKind.CONFLICT, [wo], Report("cut", "completed"))


def test_units_are_never_invented_and_reports_add_up_to_what_entered_the_step() -> None:
    wo = work_order("WO-1", quantity=10)
    whole = check_report([wo], Report("cut", "completed"))
    assert (whole.good, whole.scrap, whole.completed) == (10, 0, True)
    exact = check_report([wo], Report("cut", "completed", good_qty=7, scrap_qty=3))
    assert (exact.good_total, exact.scrap_total, exact.completed) == (7, 3, True)
    # A number left out is zero, never the rest: one good unit is not nine scrapped ones.
    for report in (
        Report("cut", "completed", good_qty=1),
        Report("cut", "completed", scrap_qty=3),
        Report("cut", "completed", good_qty=8, scrap_qty=1),
    ):
        message = refused(RefusalKind.INVALID, [wo], report)
        assert "must add up to 10" in message
    assert "at most" in refused(RefusalKind.INVALID, [wo], Report("cut", "progress", good_qty=11))
    # The next step works on what came out good.
    wo.steps[0].status, wo.steps[0].good_qty = "completed", 7
    assert check_report([wo], Report("weld", "completed", good_qty=5, scrap_qty=2)).good == 5


def test_partial_reports_add_up_and_complete_the_step() -> None:
    wo = work_order("WO-1", quantity=82)
    first = check_report([wo], Report("cut", "progress", good_qty=40))
    assert (first.completed, first.good_total, first.scrap_total) == (False, 40, 0)
    wo.steps[0].status, wo.steps[0].good_qty = "started", 40
    assert "names good or scrapped units" in refused(
        RefusalKind.INVALID, [wo], Report("cut", "progress")
    )
    second = check_report([wo], Report("cut", "progress", good_qty=40, scrap_qty=2))
    assert (second.completed, second.good_total, second.scrap_total) == (True, 80, 2)
    # Or the rest at once: with no numbers, every unit not yet reported came out good.
    rest = check_report([wo], Report("cut", "completed"))
    assert (rest.good, rest.good_total, rest.completed) == (42, 82, True)


def test_the_last_step_or_nothing_good_left_finishes_the_work_order() -> None:
    wo = work_order("WO-1", quantity=4)
    assert not check_report([wo], Report("cut", "completed")).finishes_work_order
    assert check_report([wo], Report("cut", "completed", scrap_qty=4)).finishes_work_order
    for step in wo.steps[:2]:
        step.status, step.good_qty = "completed", 4
    last = check_report([wo], Report("paint", "completed"))
    assert last.last_step and last.finishes_work_order


def test_unknown_steps_and_work_orders_are_named() -> None:
    wo = work_order("WO-1")
    assert refused(RefusalKind.INVALID, [wo], Report("polish", "started")) == (
        "polish is not a production step here (cut, weld, paint)"
    )
    assert "WO-9 is not a work order" in refused(
        RefusalKind.INVALID, [wo], Report("cut", "started", work_order_no="WO-9")
    )
    assert "must be 'started', 'progress' or 'completed'" in refused(
        RefusalKind.INVALID, [wo], Report("cut", "paused")
    )
    wo.status = "completed"
    assert "every work order" in refused(RefusalKind.CONFLICT, [wo], Report("cut", "started"))
    assert "already completed" in refused(
        RefusalKind.CONFLICT, [wo], Report("cut", "started", work_order_no="WO-1")
    )


def test_missing_units_count_what_every_work_order_will_still_deliver() -> None:
    first, replan = work_order("WO-1", quantity=10), work_order("WO-2", quantity=3)
    assert missing_units([first], "PUMP", 10) == 0
    first.steps[0].status, first.steps[0].good_qty = "completed", 7
    assert missing_units([first], "PUMP", 10) == 3
    assert missing_units([first, replan], "PUMP", 10) == 0
    replan.status = "cancelled"
    assert missing_units([first, replan], "PUMP", 10) == 3
    assert missing_units([first], None, 10) == 0


def test_production_is_done_when_nothing_is_open_and_nothing_missing() -> None:
    first = work_order("WO-1", quantity=10)
    assert not production_done([first], lambda sku: 10)
    first.status, first.produced = "completed", 10
    assert production_done([first], lambda sku: 10)
    first.produced = 8
    assert not production_done([first], lambda sku: 10)
