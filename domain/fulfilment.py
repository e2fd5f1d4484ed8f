"""Per-line fulfilment: what each line has ready, shipped, delivered and confirmed, which
shipment a dispatch may make, and the order status the lines add up to.

A line is ready by the units reserved for it from stock and, for what it had to have made,
the good units its product's finished work orders delivered (shared out in line order when
several lines ask for the same product). A shipment carries units of lines that are ready and
not yet shipped. Once a cancellation after a partial shipment cancelled the backorder, a line
is due only what it had shipped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from domain.production import WorkOrderState
from domain.refusals import conflict, invalid
from domain.statuses import OrderStatus

S = OrderStatus

# A shipment's status in the workflow: booked with the carrier, handed over, delivered
# (by the carrier's report), or called off before the hand-over.
BOOKED, SHIPPED, DELIVERED, CALLED_OFF = "booked", "shipped", "delivered", "cancelled"


@dataclass
class ShipmentLine:
    line_no: int
    quantity: int


@dataclass
class ShipmentState:
    """One shipment of a per-line order, as the workflow follows it."""

    seq: int
    lines: list[ShipmentLine]
    status: str = "requested"  # requested | booked | shipped | delivered | cancelled
    carrier: str | None = None
    tracking_no: str | None = None
    # When the workflow learnt of the delivery: the auto-confirm clock runs from here.
    delivered_seen_at: datetime | None = None
    confirmed: bool = False
    latest_tracking_at: datetime | None = None

    @property
    def handed_over(self) -> bool:
        return self.status in (SHIPPED, DELIVERED)


@dataclass(frozen=True)
class LineFacts:
    """What the workflow knows of one line: ordered, covered from stock, to be made."""

    line_no: int
    sku: str
    quantity: int
    reserved: int
    to_produce: int


@dataclass
class LineProgress:
    line_no: int
    quantity: int
    ready: int = 0
    shipped: int = 0
    delivered: int = 0
    # Units due: the quantity, or what shipped once the backorder was cancelled.
    due: int = 0
    open_to_ship: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.open_to_ship = max(min(self.ready, self.due) - self.shipped, 0)


def ready_units(
    lines: Sequence[LineFacts], work_orders: Iterable[WorkOrderState]
) -> dict[int, int]:
    """Units each line has ready: reserved from stock, plus made units of its product."""
    made: dict[str, int] = defaultdict(int)
    for work_order in work_orders:
        if work_order.status == "completed" and work_order.sku is not None:
            made[work_order.sku] += work_order.produced
    ready: dict[int, int] = {}
    for line in lines:
        from_production = min(line.to_produce, made[line.sku])
        made[line.sku] -= from_production
        ready[line.line_no] = line.reserved + from_production
    return ready


def progress(
    lines: Sequence[LineFacts],
    work_orders: Iterable[WorkOrderState],
    shipments: Iterable[ShipmentState],
    *,
    backorder_cancelled: bool = False,
) -> list[LineProgress]:
    ready = ready_units(lines, work_orders)
    shipped: dict[int, int] = defaultdict(int)
    delivered: dict[int, int] = defaultdict(int)
    for shipment in shipments:
        for part in shipment.lines:
            if shipment.handed_over:
                shipped[part.line_no] += part.quantity
            if shipment.status == DELIVERED:
                delivered[part.line_no] += part.quantity
    return [
        LineProgress(
            line_no=line.line_no,
            quantity=line.quantity,
            ready=ready[line.line_no],
            shipped=shipped[line.line_no],
            delivered=delivered[line.line_no],
            due=shipped[line.line_no] if backorder_cancelled else line.quantity,
        )
        for line in lines
    ]


def shipped_units(shipments: Iterable[ShipmentState]) -> dict[int, int]:
    """Units of each line in shipments that are not called off: handed over, or on their way
    to be (a hand-over a fault stopped)."""
    units: dict[int, int] = defaultdict(int)
    for shipment in shipments:
        if shipment.status != CALLED_OFF:
            for part in shipment.lines:
                units[part.line_no] += part.quantity
    return dict(units)


def check_amendable_lines(
    shipments: Iterable[ShipmentState], changed: Iterable[tuple[int, int]], removed: Iterable[int]
) -> None:
    """An amendment changes what has not shipped: a line is not reduced below the units it
    shipped, nor removed once some of it shipped."""
    shipped = shipped_units(shipments)
    for line_no, quantity in changed:
        if quantity < shipped.get(line_no, 0):
            raise conflict(
                f"line {line_no} shipped {shipped[line_no]} unit(s): it cannot be reduced to "
                f"{quantity}"
            )
    for line_no in removed:
        if shipped.get(line_no, 0):
            raise conflict(f"line {line_no} shipped {shipped[line_no]} unit(s): it stays")


def plan_shipment(
    lines: Sequence[LineProgress], asked: Sequence[ShipmentLine] | None
) -> list[ShipmentLine]:
    """The lines a dispatch ships: everything ready and not yet shipped when ``asked`` is
    None, else exactly what was asked, each line at most what it has open to ship."""
    by_line = {line.line_no: line for line in lines}
    if asked is None:
        planned = [ShipmentLine(line.line_no, line.open_to_ship) for line in lines]
        planned = [part for part in planned if part.quantity > 0]
        if not planned:
            raise conflict("nothing is ready to ship")
        return planned
    if not asked:
        raise invalid("lines: name at least one line, or leave lines out to ship all that is ready")
    seen: set[int] = set()
    for part in asked:
        line = by_line.get(part.line_no)
        if line is None:
            raise invalid(f"the order has no line {part.line_no}")
        if part.line_no in seen:
            raise invalid(f"line {part.line_no} is named twice")
        seen.add(part.line_no)
        if part.quantity > line.open_to_ship:
            raise invalid(
                f"line {part.line_no}: {part.quantity} unit(s) asked, {line.open_to_ship} "
                f"ready and not yet shipped"
            )
    return [ShipmentLine(part.line_no, part.quantity) for part in asked]


def shipped_in_full(lines: Sequence[LineProgress]) -> bool:
    return all(line.shipped >= line.due for line in lines)


def derived_status(lines: Sequence[LineProgress], shipments: Sequence[ShipmentState]) -> S:
    """Where an order past production stands by its lines and shipments: AWAITING_SHIPMENT
    while something is left to ship; SHIPPED once every line shipped in full; DELIVERED once
    every shipment handed over was delivered too; COMPLETED once each one's receipt is
    confirmed."""
    if not shipped_in_full(lines):
        return S.AWAITING_SHIPMENT
    handed = [shipment for shipment in shipments if shipment.handed_over]
    if not all(shipment.status == DELIVERED for shipment in handed):
        return S.SHIPPED
    if not all(shipment.confirmed for shipment in handed):
        return S.DELIVERED
    return S.COMPLETED
