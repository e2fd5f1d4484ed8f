"""Approvers see what an amendment changed: each pending approval carries the order's latest
amendment with its field-level diff, and whoever decided a level before an amendment re-opened
it finds the level there again."""

from __future__ import annotations

from tests.factories import ONE_LEVEL_QTY, THREE_LEVEL_QTY, World
from tests.test_amendments import amend, half_reviewed
from tests.test_pending_approvals import level_open, pending


async def test_a_reopened_level_shows_the_amendments_diff_to_its_approvers(world: World) -> None:
    order_no = await half_reviewed(world)
    await level_open(world, order_no, 2)
    [waiting] = await pending(world, "mgr")
    assert waiting["latest_amendment"] is None
    # Past the band of two levels; then down a little, still past it.
    body = {"reason": "framework deal", "change_lines": [{"line_no": 1, "quantity": 1600}]}
    first = await amend(world, order_no, body)
    assert first.status_code == 200, first.text
    body = {
        "reason": "framework deal, final",
        "change_lines": [{"line_no": 1, "quantity": THREE_LEVEL_QTY}],
    }
    second = await amend(world, order_no, body)
    assert second.status_code == 200, second.text

    # The supervisor approved the order as entered; the amendment re-opened that level.
    for approver in ("sup", "sup2"):
        [item] = await pending(world, approver)
        assert item["order_no"] == order_no and item["level"]["level"] == 1
        latest = item["latest_amendment"]
        assert (latest["version"], latest["reason"]) == (3, "framework deal, final")
        assert latest["amended_by"] == world["sales"].username
        assert latest["changes"] == [
            {"field": "lines[1].quantity", "before": 1600, "after": THREE_LEVEL_QTY}
        ]
    # The manager's level waits behind it now.
    assert await pending(world, "mgr") == []


async def test_an_order_never_amended_shows_no_amendment(world: World) -> None:
    order_no = await world.new_order(ONE_LEVEL_QTY)
    await world.wait_for(order_no, "UNDER_REVIEW")

    [item] = await pending(world, "sup")

    assert item["order_no"] == order_no and item["latest_amendment"] is None
