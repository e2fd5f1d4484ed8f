"""Random walks through the order flow, hostile input included, with the invariants checked
after every step.

A Hypothesis state machine enters orders and then, in random order, decides, cancels, holds,
resumes, reports production (in parts too), dispatches, posts carrier events and confirms
receipt, as the right people and the wrong ones, with clean and hostile strings and numbers.
Each request's answer is predicted from the workflow's state (``tests.order_oracle``): 403,
409 and 422 exactly where the design says, 200 everywhere else. After every step, for every
order: it settles with PostgreSQL and the workflow agreeing; its history is a walk the
allowed transitions permit; and the product's stock is never negative and is what its ledger
adds up to. No request may answer 5xx or take longer than ``UPDATE_WAIT`` (plus rendering).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from temporalio.client import Client
from temporalio.worker import Worker

from api.app import create_app
from chaos.invariants import history_problems, ledger_problems
from config import Settings
from domain.production import Report
from domain.statuses import AMENDABLE
from tests import order_oracle as oracle
from tests.factories import DEFAULT_ROUTING, World
from tests.hostile import Drawn, JsonText, any_hostile, count, hostile_text, text
from tests.live import serve
from tests.stateful_stack import OrderStack
from workflows.messages import OrderState

# A handful of orders per walk, so that every step checks all of them quickly.
MAX_ORDERS = 5
# Units of the product in stock when a walk starts: some orders are covered from stock, some
# partly, the rest made to order.
OPENING_STOCK = 15
QUANTITIES = st.sampled_from([3, 10, 15, 200])
# Unit prices no decimal column holds.
HOSTILE_PRICES: list[Any] = [JsonText("NaN"), JsonText("1e309"), JsonText("-Infinity"), -1]
# Order numbers as a broken client might send them (percent-encoded in the path).
MANGLED_ORDER_NUMBERS = ["{order}%00", "%00", "{order}%ED%A0%80", "%FF%FE", "{order}" + "9" * 3000]


def value(drawn: Drawn | None) -> Any:
    return drawn.value if drawn is not None else None


class OrderWalk(RuleBasedStateMachine):
    """One random walk: a fresh product, up to ``MAX_ORDERS`` orders, and what people do."""

    stack: ClassVar[OrderStack]
    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.sku = self.stack.new_product(OPENING_STOCK)
        self.known: dict[str, OrderState] = {}
        self.created_at: dict[str, datetime] = {}
        self.tracking: dict[str, str | None] = {}
        self.replays: dict[str, tuple[dict[str, Any], str]] = {}
        self.amendments = 0

    # ------------------------------------------------------------------ entering orders

    @precondition(lambda self: len(self.known) < MAX_ORDERS)
    @rule(
        target=orders,
        quantity=count(QUANTITIES),
        ours=st.sampled_from([True, True, True, False]),
        price=st.none() | st.sampled_from(HOSTILE_PRICES).map(lambda v: Drawn(v, hostile=True)),
        by=st.sampled_from(["sales", "sales", "sales", "ops"]),
        keyed=st.booleans(),
    )
    def enter_order(
        self, quantity: Drawn, ours: bool, price: Drawn | None, by: str, keyed: bool
    ) -> Any:
        line: dict[str, Any] = {"sku": self.sku if ours else "NO-SUCH-SKU", "quantity": quantity}
        if price is not None:
            line["unit_price"] = price
        body = {"customer_id": self.stack.world.customer_id, "lines": [line]}
        key = f"walk-{uuid.uuid4().hex}" if keyed else None
        headers = {"Idempotency-Key": key} if key else None
        expected = 403 if by != "sales" else 422 if any_hostile(quantity, price) else 201
        response = self.stack.call("POST", "/api/v1/orders", as_=by, body=body, headers=headers)
        assert response.status_code == expected, response.text
        if expected != 201:
            return multiple()
        order_no: str = response.json()["order_no"]
        self.created_at[order_no] = datetime.fromisoformat(response.json()["created_at"])
        if key is not None:
            self.replays[order_no] = (body, key)
        self._refresh(order_no)
        return order_no

    @rule(order=orders)
    def enter_again_with_the_same_key(self, order: str) -> None:
        """The same request with the same Idempotency-Key answers the same order, once."""
        if order not in self.replays:
            return
        body, key = self.replays[order]
        headers = {"Idempotency-Key": key}
        response = self.stack.call(
            "POST", "/api/v1/orders", as_="sales", body=body, headers=headers
        )
        assert response.status_code == 201, response.text
        assert response.json()["order_no"] == order
        assert response.headers.get("Idempotent-Replayed") == "true"
        assert self.stack.orders_with_key(key) == 1

    # ------------------------------------------------------------------ review

    @rule(
        order=orders,
        person=st.sampled_from(["sup", "sup2", "mgr", "mgr2", "dir", "ops", "sales"]),
        verdict=st.sampled_from(["approve", "approve", "reject"]),
        comment=st.none() | text(max_size=40, min_size=0),
    )
    def decide(self, order: str, person: str, verdict: str, comment: Drawn | None) -> None:
        state = self.known[order]
        if not oracle.ROLES[person] & oracle.APPROVER_ROLES:
            expected = 403
        elif any_hostile(comment):
            expected = 422
        else:
            expected = oracle.decision(state, person, verdict, value(comment))
        body: dict[str, Any] = {"decision": verdict}
        if comment is not None:
            body["comment"] = comment
        response = self.stack.act(order, "decisions", as_=person, body=body)
        self._expect(response, expected, {str(s) for s in oracle.decided_status(state, verdict)})

    # ------------------------------------------------------------------ amendments

    @rule(
        order=orders,
        person=st.sampled_from(["sales", "sales", "sales", "sup"]),
        units=st.sampled_from([1, 3, 10, 40, 150]),
        note=text(max_size=40),
    )
    def amend(self, order: str, person: str, units: int, note: Drawn) -> None:
        """Quantities within the one-level band and past it (150 units need two levels, so an
        approved order goes back under review); the notes always change (each amendment
        numbers them), so something always does."""
        self.amendments += 1
        notes = f"{note.value} #{self.amendments}" if isinstance(note.value, str) else note.value
        body = {
            "reason": "walk",
            "change_lines": [{"line_no": 1, "quantity": units}],
            "notes": notes,
        }
        state = self.known[order]
        expected = self._refused(person, {"sales"}, note) or oracle.amend(state, ((1, units),))
        response = self.stack.act(order, "amendments", as_=person, body=body)
        self._expect(response, expected, {str(s) for s in AMENDABLE} | {"APPROVED"})

    # ------------------------------------------------------------------ cancel, hold, resume

    @rule(
        order=orders,
        person=st.sampled_from(["sales", "ops", "prod"]),
        reason=text(max_size=60),
    )
    def cancel(self, order: str, person: str, reason: Drawn) -> None:
        expected = self._refused(person, {"sales", "ops"}, reason)
        response = self.stack.act(order, "cancel", as_=person, body={"reason": reason})
        state = self.known[order]
        self._expect(response, expected or oracle.cancel(state), oracle.cancelled_status(state))

    @rule(order=orders, person=st.sampled_from(["ops", "ops", "sales"]), reason=text(max_size=60))
    def hold(self, order: str, person: str, reason: Drawn) -> None:
        expected = self._refused(person, {"ops"}, reason)
        response = self.stack.act(order, "hold", as_=person, body={"reason": reason})
        self._expect(response, expected or oracle.hold(self.known[order]), {"ON_HOLD"})

    @rule(
        order=orders,
        person=st.sampled_from(["ops", "ops", "log"]),
        reason=st.none() | text(max_size=60, min_size=0),
    )
    def resume(self, order: str, person: str, reason: Drawn | None) -> None:
        state = self.known[order]
        expected = self._refused(person, {"ops"}, reason)
        response = self.stack.act(order, "resume", as_=person, body={"reason": reason})
        self._expect(response, expected or oracle.resume(state), oracle.resumed_status(state))

    # ------------------------------------------------------------------ shop floor

    @rule(
        order=orders,
        person=st.sampled_from(["prod", "prod", "prod", "log"]),
        step=st.sampled_from([*DEFAULT_ROUTING, "paint"]).map(Drawn) | hostile_text(free=False),
        event=st.sampled_from(["started", "progress", "completed", "completed"]).map(Drawn)
        | st.just(Drawn("finished", hostile=True)),
        good=st.none() | count(st.integers(0, 12)),
        scrap=st.none() | count(st.integers(0, 3)),
        note=st.none() | text(max_size=40),
        named=st.booleans(),
    )
    def report_production(
        self,
        order: str,
        person: str,
        step: Drawn,
        event: Drawn,
        good: Drawn | None,
        scrap: Drawn | None,
        note: Drawn | None,
        named: bool,
    ) -> None:
        state = self.known[order]
        body: dict[str, Any] = {"step": step, "event": event}
        open_orders = [wo.work_order_no for wo in state.work_orders if wo.status == "open"]
        work_order = open_orders[0] if named and open_orders else None
        for name, drawn in (("good_qty", good), ("scrap_qty", scrap), ("note", note)):
            if drawn is not None:
                body[name] = drawn
        if work_order is not None:
            body["work_order_no"] = work_order
        expected = self._refused(person, {"production"}, step, event, good, scrap, note)
        if not expected:
            report = Report(step.value, event.value, value(good), value(scrap), work_order)
            expected = oracle.production_report(state, report)
        response = self.stack.act(order, "production-events", as_=person, body=body)
        self._expect(response, expected, {"IN_PRODUCTION", "AWAITING_SHIPMENT"})

    # ------------------------------------------------------------------ logistics, receipt

    @rule(order=orders, person=st.sampled_from(["log", "log", "prod"]))
    def dispatch(self, order: str, person: str) -> None:
        state = self.known[order]
        expected = self._refused(person, {"logistics"}) or oracle.dispatch(state)
        response = self.stack.act(order, "dispatch", as_=person)
        self._expect(response, expected, oracle.dispatched_status(state))

    @rule(
        order=orders,
        status=st.sampled_from(["in_transit", "out_for_delivery", "delivered", "exception"]),
        known_tracking=st.sampled_from([True, True, True, False]),
        location=st.none() | text(max_size=40, free=False),
        detail=st.none() | text(max_size=60),
        when=st.sampled_from(["recent", "recent", "recent", "naive", "ancient", "future"]),
        lateness=st.floats(0, 1),
    )
    def carrier_event(
        self,
        order: str,
        status: str,
        known_tracking: bool,
        location: Drawn | None,
        detail: Drawn | None,
        when: str,
        lateness: float,
    ) -> None:
        state = self.known[order]
        tracking = oracle.tracking_to_report(state) if known_tracking else None
        # Between the order's entry (the next whole second) and now: late events too.
        now = datetime.now(UTC).replace(microsecond=0)
        created = self.created_at[order].replace(microsecond=0) + timedelta(seconds=1)
        moment = created + max(now - created, timedelta(0)) * lateness
        moment = moment.replace(microsecond=0)
        occurred = {
            "recent": Drawn(moment.isoformat()),
            "naive": Drawn(moment.replace(tzinfo=None).isoformat(), hostile=True),
            "ancient": Drawn("1999-12-31T23:59:59+00:00", hostile=True),
            "future": Drawn((now + timedelta(days=30)).isoformat(), hostile=True),
        }[when]
        body = {
            "tracking_no": tracking or f"NO-SUCH-{uuid.uuid4().hex[:8]}",
            "status": status,
            "location": location,
            "occurred_at": occurred,
            "detail": detail,
        }
        if any_hostile(location, detail, occurred):
            expected = 422
        elif tracking is None:
            expected = 404
        else:
            expected = 202 if oracle.takes_tracking(state, tracking) else 409
        response = self.stack.carrier_event(body)
        assert response.status_code == expected, response.text
        if expected == 202:
            self.stack.wait_for_tracking(order, status, moment)
            self._refresh(order)
            now_status = self.known[order].status
            assert tracking is not None
            if status == "delivered" and oracle.delivers_the_order(state, tracking):
                assert now_status == "DELIVERED", f"delivered, yet {now_status}"
            latest = oracle.latest_tracking_at(state, tracking)
            newest = latest is None or moment > latest
            if state.status == "SHIPPED" and status == "exception" and newest:
                assert now_status == "ON_HOLD", f"a carrier exception, yet {now_status}"

    @rule(
        order=orders, person=st.sampled_from(["customer", "customer", "sales", "stranger", "ops"])
    )
    def confirm_receipt(self, order: str, person: str) -> None:
        state = self.known[order]
        expected = oracle.confirm(state, person)
        response = self.stack.act(order, "confirm-delivery", as_=person)
        self._expect(response, expected, oracle.confirmed_status(state))

    # ------------------------------------------------------------------ the way forward

    @rule(order=orders, steps=st.integers(1, 4))
    def take_the_next_steps(self, order: str, steps: int) -> None:
        """What the order waits for, done by the right person, a few times over: walks go
        deep, not only wide."""
        for _ in range(steps):
            self._take_the_next_step(order)
            self._refresh(order)

    def _take_the_next_step(self, order: str) -> None:
        state = self.known[order]
        if state.status == "UNDER_REVIEW":
            level = state.levels[state.current_level - 1]
            decided = {d.by for other in state.levels for d in other.decisions}
            for person, roles in oracle.ROLES.items():
                if roles & set(level.deciders()) and person not in decided:
                    self.decide(order, person, "approve", None)
                    return
        elif state.status == "IN_PRODUCTION":
            for wo in state.work_orders:
                step = next((s for s in wo.steps if s.status in ("pending", "started")), None)
                if wo.status == "open" and step is not None:
                    done = Drawn("completed")
                    self.report_production(
                        order, "prod", Drawn(step.name), done, None, None, None, True
                    )
                    return
        elif state.status == "AWAITING_SHIPMENT":
            self.dispatch(order, "log")
        elif state.status == "SHIPPED":
            self.carrier_event(order, "delivered", True, None, None, "recent", 1.0)
        elif state.status == "DELIVERED":
            self.confirm_receipt(order, "customer")
        elif state.status == "ON_HOLD":
            self.resume(order, "ops", None)

    @rule(order=orders, mangled=st.sampled_from(MANGLED_ORDER_NUMBERS))
    def look_up_a_mangled_order_number(self, order: str, mangled: str) -> None:
        """An order number with NUL, invalid UTF-8 or 3,000 digits in it: 404 or 422."""
        number = mangled.format(order=order)
        response = self.stack.call("GET", f"/api/v1/orders/{number}", as_="ops")
        assert response.status_code in (404, 422), response.text

    # ------------------------------------------------------------------ after every step

    @invariant()
    def every_order_keeps_the_invariants(self) -> None:
        problems: list[str] = []
        for order_no in self.known:
            order = self._refresh(order_no)
            rows = self.stack.history(order_no)
            problems += history_problems(order_no, rows)
            if rows and rows[-1].to_status != order["status"]:
                problems.append(f"{order_no} is {order['status']}, its history says otherwise")
            shown = [(h["from_status"], h["to_status"]) for h in order["history"]]
            if shown != [(r.from_status, r.to_status) for r in rows]:
                problems.append(f"{order_no}: GET shows history {shown}")
        on_hand, reserved, moved = self.stack.stock(self.sku)
        problems += ledger_problems(self.sku, OPENING_STOCK, moved, on_hand, reserved)
        assert not problems, "\n".join(problems)

    # ------------------------------------------------------------------ helpers

    def _refresh(self, order_no: str) -> dict[str, Any]:
        settled = self.stack.settle(order_no)
        self.known[order_no] = settled.state
        return settled.order

    @staticmethod
    def _refused(person: str, roles: set[str], *drawn: Drawn | None) -> int:
        """403 for a caller without the role, 422 for hostile input, else 0: the order decides."""
        if not oracle.ROLES[person] & roles:
            return 403
        return 422 if any_hostile(*drawn) else 0

    @staticmethod
    def _expect(response: Any, expected: int, statuses: set[str]) -> None:
        assert response.status_code == expected, (
            f"expected {expected}, got {response.status_code}: {response.text[:300]}"
        )
        if expected == 200 and statuses:
            assert response.json()["status"] in statuses, response.json()["status"]


async def test_random_walks_keep_every_invariant(
    world: World, settings: Settings, temporal_client: Client, worker: Worker
) -> None:
    async with serve(create_app(settings, temporal_client)) as base_url:
        stack = OrderStack(asyncio.get_running_loop(), base_url, temporal_client, world, settings)
        walk = type("Walk", (OrderWalk,), {"stack": stack})
        walk_settings = settings_for_walks()
        try:
            await asyncio.to_thread(run_state_machine_as_test, walk, settings=walk_settings)
        finally:
            stack.close()
    print(stack.summary())


def settings_for_walks() -> settings:
    """A bounded number of walks, each a bounded number of steps; no shrinking, since every
    replay runs real orders (the failing walk is printed step by step all the same)."""
    return settings(
        max_examples=20,
        stateful_step_count=40,
        deadline=None,
        database=None,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
