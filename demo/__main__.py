"""``python -m demo``: play every role against the running API, then summarise.

Reads ``API_URL`` (default ``http://127.0.0.1:$API_PORT``, port 8000) and, for the links it
prints, ``TEMPORAL_UI_PORT`` and ``TEMPORAL_NAMESPACE``, like ``make run`` does.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta

from demo.api import Api, ApiError, ApiUnavailable
from demo.moves import EVERY_USER, OPS, Demo, Outcome
from demo.scenarios import (
    Scenario,
    cancelled_in_production,
    from_stock,
    held_before_shipping,
    left_with_the_manager,
    made_to_order,
    play,
    rejected_in_review,
)
from demo.story import Narrator, count, rate
from devstack.paths import int_setting, setting

# tag, title, expected final status, scenario. Four orders ship, so a carrier simulator that
# fails every 4th delivery attempt (the `make run` default) shows an exception in every run.
SCENARIOS: list[tuple[str, str, str, Scenario]] = [
    ("a1", "a. small order from stock", "COMPLETED", from_stock([("VALVE-25", 20)], "sup1")),
    ("b", "b. made to order, one scrap", "COMPLETED", made_to_order),
    ("c", "c. cancelled in production", "CANCELLED", cancelled_in_production),
    ("a2", "a. small order from stock", "COMPLETED", from_stock([("FRAME-S", 4)], "sup2")),
    (
        "a3",
        "a. two lines from stock",
        "COMPLETED",
        from_stock([("VALVE-25", 40), ("FRAME-S", 10)], "sup1"),
    ),
    ("e", "e. rejected in review", "REJECTED", rejected_in_review),
    # Two orders are left waiting, so the dashboard has whom to show as waiting.
    ("f", "f. left with the manager", "UNDER_REVIEW", left_with_the_manager),
    ("g", "g. held before shipping", "ON_HOLD", held_before_shipping),
]
# Seconds between the start of one scenario and the next, so their first lines do not collide.
STAGGER_SECONDS = 1.0


async def run_demo(api_url: str, story: Narrator) -> int:
    started_at = datetime.now(UTC)
    async with Api(api_url) as api:
        try:
            await api.check_alive()
        except ApiUnavailable:
            print(f"demo: nothing answers at {api_url}; start `make run` first.", file=sys.stderr)
            return 2
        try:
            await asyncio.gather(*(api.sign_in(user) for user in EVERY_USER))
            demo = await Demo.load(api, story, started_at)
        except (ApiError, LookupError) as exc:
            print(
                f"demo: the API at {api_url} does not know the demo data ({exc}); "
                "`make run` seeds it.",
                file=sys.stderr,
            )
            return 2

        print(f"Order-flow demo against {api_url}: every role played by its demo login.")
        print(f"Every order in the Temporal UI: {story.workflows_link()}")
        print()
        outcomes = [Outcome(tag, title, expected) for tag, title, expected, _ in SCENARIOS]
        await asyncio.gather(
            *(
                play(demo, outcome, scenario, delay=i * STAGGER_SECONDS)
                for i, (outcome, (*_, scenario)) in enumerate(zip(outcomes, SCENARIOS, strict=True))
            )
        )
        print_summary(outcomes)
        await print_lines_and_alerts(demo)
        await print_analytics(demo)
    failed = [outcome for outcome in outcomes if not outcome.ok]
    print()
    if failed:
        print(f"{len(failed)} order(s) did not end as expected; see the PROBLEM lines above.")
        return 1
    print(f"All {len(outcomes)} orders ended as expected.")
    return 0


def print_summary(outcomes: list[Outcome]) -> None:
    rows = [("order", "scenario", "route", "final status")]
    for outcome in outcomes:
        status = outcome.final
        if not outcome.ok:
            status += f" (expected {outcome.expected})"
        order_no = outcome.order.order_no if outcome.order else "—"
        rows.append((order_no, outcome.title, outcome.route(), status))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    print()
    print("Summary")
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  " + "  ".join([*cells, row[3]]))
    held = [o.order.order_no for o in outcomes if o.carrier_exception and o.order]
    if held:
        print(f"  d. carrier exception put {', '.join(held)} ON_HOLD; ops1 resumed, then delivered")
    else:
        print("  d. no carrier exception this run (the simulator fails every N-th shipment)")


async def print_lines_and_alerts(demo: Demo) -> None:
    print()
    print("Production lines")
    for line in (await demo.api.get(OPS, "/production-lines"))["data"]:
        print(
            f"  {line['code']:<7} {rate(line['units_per_hour']):>12}  "
            f"{count(line['open_work_orders'], 'open work order')}, "
            f"{count(line['queued_units'], 'unit')} queued, booked for {line['booked_hours']} h"
        )
    alerts = (await demo.api.get(OPS, "/alerts", limit=50))["data"]
    # Server and demo share a clock here; the slack covers rounding in stored timestamps.
    since = demo.started_at - timedelta(seconds=2)
    new = [alert for alert in alerts if datetime.fromisoformat(alert["at"]) >= since]
    print()
    print("Alerts raised during this run (all of them: GET /api/v1/alerts)")
    for alert in reversed(new):
        print(f"  {alert['kind']:<18} {alert['message']}")
    if not new:
        print("  none")


async def print_analytics(demo: Demo) -> None:
    """What the analytics make of the orders so far (the last 30 days; GET /api/v1/analytics)."""
    stages = await demo.api.get(OPS, "/analytics/stage-durations")
    delivery = await demo.api.get(OPS, "/analytics/delivery")
    print()
    print("Analytics, last 30 days (GET /api/v1/analytics/...)")
    bottleneck = stages["bottleneck"]
    if bottleneck:
        print(
            f"  bottleneck: {bottleneck['status']}, {bottleneck['share']:.0%} of the time spent "
            f"in finished stays, {bottleneck['mean_seconds']:.0f} s on average"
        )
    rate_shown = "—" if delivery["on_time_rate"] is None else f"{delivery['on_time_rate']:.0%}"
    print(
        f"  deliveries against the requested day: {delivery['on_time']} of "
        f"{delivery['delivered']} on time ({rate_shown}), "
        f"{len(delivery['late'])} late listed, {delivery['without_requested_date']} without a date"
    )


def main() -> int:
    default_url = f"http://127.0.0.1:{int_setting('API_PORT', 8000)}"
    api_url = (setting("API_URL") or default_url).rstrip("/")
    ui = f"http://localhost:{int_setting('TEMPORAL_UI_PORT', 8233)}"
    story = Narrator(ui, setting("TEMPORAL_NAMESPACE") or "default")
    try:
        return asyncio.run(run_demo(api_url, story))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
