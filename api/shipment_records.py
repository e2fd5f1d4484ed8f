"""Per-line fulfilment as the order detail shows it: each line's units ready, shipped and
delivered and the state they add up to, and each shipment with the lines it carries.

A shipment's lines are fixed when it is handed over; one handed over without lines of its own
was booked before per-line fulfilment (release 1.0) and carries the whole order.
"""

from __future__ import annotations

from typing import Any

from domain.fulfilment import LineFacts, ready_units
from domain.production import WorkOrderState


def shipment_lines_filled(
    shipments: list[dict[str, Any]], lines: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each shipment with its lines; one handed over without lines of its own was booked for
    the whole order (release 1.0). A shipment booked ahead lists none until its hand-over."""
    whole_order = [{"line_no": line["line_no"], "quantity": line["quantity"]} for line in lines]
    return [
        {
            **shipment,
            "lines": shipment["lines"]
            or (whole_order if shipment["shipped_at"] is not None else []),
        }
        for shipment in shipments
    ]


def line_progress(
    lines: list[dict[str, Any]],
    work_orders: list[dict[str, Any]],
    shipments: list[dict[str, Any]],
    backorder_cancelled: bool,
) -> list[dict[str, Any]]:
    made = [
        WorkOrderState(
            work_order_no=wo["work_order_no"],
            sku=wo["sku"],
            line=wo["line"],
            quantity=wo["quantity"],
            planned_start=None,
            planned_finish=None,
            status=wo["status"],
            produced=wo["produced_qty"],
        )
        for wo in work_orders
    ]
    ready = ready_units(
        [
            LineFacts(
                line["line_no"], line["sku"], line["quantity"], line["reserved_qty"],
                line["produce_qty"],
            )
            for line in lines
        ],
        made,
    )  # fmt: skip
    shipped: dict[int, int] = {}
    delivered: dict[int, int] = {}
    for shipment in shipments:
        handed_over = shipment["shipped_at"] is not None and shipment["status"] != "cancelled"
        for part in shipment["lines"]:
            if handed_over:
                shipped[part["line_no"]] = shipped.get(part["line_no"], 0) + part["quantity"]
            if shipment["delivered_at"] is not None:
                delivered[part["line_no"]] = delivered.get(part["line_no"], 0) + part["quantity"]
    shown = []
    for line in lines:
        line_no = line["line_no"]
        facts = {
            "ready_qty": ready[line_no],
            "shipped_qty": shipped.get(line_no, 0),
            "delivered_qty": delivered.get(line_no, 0),
        }
        shown.append({**line, **facts, "state": _state(line, facts, backorder_cancelled)})
    return shown


def _state(line: dict[str, Any], facts: dict[str, int], backorder_cancelled: bool) -> str:
    """Once the backorder was cancelled a line is due what it shipped."""
    shipped, delivered = facts["shipped_qty"], facts["delivered_qty"]
    due = shipped if backorder_cancelled else line["quantity"]
    if due == 0:
        return "backorder_cancelled"
    if delivered >= due:
        return "delivered"
    if shipped >= due:
        return "shipped"
    if shipped:
        return "partially_shipped"
    if line["reserved_qty"] + line["produce_qty"] == 0:
        return "pending"
    if facts["ready_qty"] >= due:
        return "ready"
    return "in_production" if line["produce_qty"] else "reserved"
