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


def test_good_and_scrap_add_up_to_what_entered_the_step() -> None:
    wo = work_order("WO-1", quantity=10)
    whole = check_report([wo], Report("cut", "completed"))
    assert (whole.good, whole.scrap) == (10, 0)
    scrap_only = check_report([wo], Report("cut", "completed", scrap_qty=3))
    assert (scrap_only.good, scrap_only.scrap) == (7, 3)
    good_only = check_report([wo], Report("cut", "completed", good_qty=9))
    assert (good_only.good, good_only.scrap) == (9, 1)
    message = refused(
        RefusalKind.INVALID, [wo], Report("cut", "completed", good_qty=8, scrap_qty=1)
    )
    assert message == "10 unit(s) entered step cut of WO-1: good and scrap must add up to 10"
    # The next step works on what came out good.
    wo.steps[0].status, wo.steps[0].good_qty = "completed", 7
    assert check_report([wo], Report("weld", "completed", scrap_qty=2)).good == 5


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
    assert "must be 'started' or 'completed'" in refused(
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
