"""Examples the API documentation shows, in one place so that they tell one story: order
SO-2026-000123 for ACME (a pump and valves, two review levels, ten pumps made, shipped), with
the demo data's users, customers and products. ``tests/test_api_docs.py`` checks that each
example is a valid instance of the model that shows it.
"""

from __future__ import annotations

from pydantic import JsonValue
from pydantic.config import JsonDict

# Fulfilment: the low-stock alert the order raised, its work order, stock and shipment.
ALERT_EXAMPLE: JsonDict = {
    "kind": "low_stock",
    "sku": "PUMP-100",
    "order_no": "SO-2026-000123",
    "message": "PUMP-100: 0 available, below the reorder point of 10",
    "at": "2026-11-30T09:02:11Z",
}
STEP_EXAMPLE: JsonDict = {
    "name": "machine",
    "status": "completed",
    "good_qty": 10,
    "scrap_qty": 0,
    "planned_start": "2026-11-30T09:05:00Z",
    "planned_finish": "2026-11-30T11:05:00Z",
    "started_at": "2026-11-30T09:12:00Z",
    "completed_at": "2026-11-30T11:01:00Z",
}
WORK_ORDER_EXAMPLE: JsonDict = {
    "work_order_no": "WO-2026-000045",
    "sku": "PUMP-100",
    "quantity": 10,
    "line": "CELL-M",
    "status": "completed",
    "planned_start": "2026-11-30T09:05:00Z",
    "planned_finish": "2026-11-30T15:45:00Z",
    "finished_at": "2026-11-30T15:20:00Z",
    "produced_qty": 10,
    "replan_of": None,
    "overdue": False,
    "cancelled_at": None,
    "steps": [STEP_EXAMPLE],
}
PROGRESS_EXAMPLE: JsonDict = {
    "steps_done": 3,
    "steps_total": 3,
    "percent": 100,
    "planned_finish": "2026-11-30T15:45:00Z",
    "actual_finish": "2026-11-30T15:20:00Z",
}
PRODUCTION_EXAMPLE: JsonDict = {
    "work_order_no": "WO-2026-000045",
    "line": "CELL-M",
    "status": "completed",
    "steps": [STEP_EXAMPLE],
    "progress": PROGRESS_EXAMPLE,
    "work_orders": [WORK_ORDER_EXAMPLE],
}
PRODUCTION_RECORD_EXAMPLE: JsonDict = {
    "work_order_no": "WO-2026-000045",
    "step": "machine",
    "event": "completed",
    "good_qty": 10,
    "scrap_qty": 0,
    "note": None,
    "reported_by": "prod1",
    "at": "2026-11-30T11:01:00Z",
}
STOCK_MOVEMENT_EXAMPLE: JsonDict = {
    "sku": "PUMP-100",
    "kind": "reserve",
    "quantity": 40,
    "at": "2026-11-30T09:02:10Z",
}
QUEUED_WORK_ORDER_EXAMPLE: JsonDict = {
    "work_order_no": "WO-2026-000046",
    "order_no": "SO-2026-000124",
    "sku": "MOTOR-7K",
    "quantity": 6,
    "planned_start": "2026-12-01T08:00:00Z",
    "planned_finish": "2026-12-01T17:00:00Z",
    "overdue": False,
}
TRACKING_EVENT_EXAMPLE: JsonDict = {
    "status": "in_transit",
    "location": "Shanghai hub",
    "detail": None,
    "occurred_at": "2026-11-30T18:30:00Z",
}
SHIPMENT_EXAMPLE: JsonDict = {
    "carrier": "simulator",
    "tracking_no": "SIM4F2A9C01DE",
    "status": "shipped",
    "booked_at": "2026-11-30T15:21:00Z",
    "shipped_at": "2026-11-30T16:05:00Z",
    "delivered_at": None,
    "cancelled_at": None,
    "events": [TRACKING_EVENT_EXAMPLE],
}

# Review: approved by sup1, then by mgr1 after a reminder.
DECISION_EXAMPLE: JsonDict = {
    "by": "sup1",
    "on_behalf_of": None,
    "acting_role": "supervisor",
    "decision": "approve",
    "comment": "Regular customer, prices as agreed.",
    "at": "2026-11-30T08:40:00Z",
}
NOTICE_FIRING_EXAMPLE: JsonDict = {
    "kind": "reminder",
    "round": 1,
    "role": "manager",
    "recipients": ["mgr1"],
    "at": "2026-11-30T08:55:00Z",
}
MANAGER_LEVEL_EXAMPLE: JsonDict = {
    "level": 2,
    "role": "manager",
    "status": "approved",
    "escalated": False,
    "escalated_to": None,
    "quorum": 1,
    "opened_at": "2026-11-30T08:40:01Z",
    "decided_at": "2026-11-30T09:02:00Z",
    "decisions": [
        {
            "by": "mgr1",
            "on_behalf_of": None,
            "acting_role": "manager",
            "decision": "approve",
            "comment": None,
            "at": "2026-11-30T09:02:00Z",
        }
    ],
    "notices": [NOTICE_FIRING_EXAMPLE],
}
REVIEW_EXAMPLE: JsonDict = {
    "current_level": None,
    "policy_version": 1,
    "policy_rule": "10,000 to 99,999.99",
    "levels": [
        {
            "level": 1,
            "role": "supervisor",
            "status": "approved",
            "escalated": False,
            "escalated_to": None,
            "quorum": 1,
            "opened_at": "2026-11-30T08:15:02Z",
            "decided_at": "2026-11-30T08:40:00Z",
            "decisions": [DECISION_EXAMPLE],
            "notices": [],
        },
        MANAGER_LEVEL_EXAMPLE,
    ],
}

# The order as staff read it.
ORDER_SUMMARY_EXAMPLE: JsonDict = {
    "order_no": "SO-2026-000123",
    "status": "SHIPPED",
    "status_label": {"en": "Shipped", "zh": "已发货"},
    "held_from": None,
    "customer_id": 1,
    "total": "94900.00",
    "currency": "CNY",
    "created_by": "sales1",
    "created_at": "2026-11-30T08:15:00Z",
    "requested_delivery_date": "2026-12-14",
    "archived_at": None,
}
ORDER_LINES_EXAMPLE: list[JsonValue] = [
    {
        "line_no": 1,
        "sku": "PUMP-100",
        "quantity": 50,
        "unit_price": "1850.00",
        "amount": "92500.00",
        "reserved_qty": 40,
        "produce_qty": 10,
        "promised_date": "2026-12-02",
    },
    {
        "line_no": 2,
        "sku": "VALVE-25",
        "quantity": 20,
        "unit_price": "120.00",
        "amount": "2400.00",
        "reserved_qty": 20,
        "produce_qty": 0,
        "promised_date": "2026-12-02",
    },
]
HISTORY_EXAMPLE: list[JsonValue] = [
    {
        "from_status": None,
        "to_status": "CREATED",
        "actor": "sales1",
        "reason": None,
        "at": "2026-11-30T08:15:00Z",
    },
    {
        "from_status": "CREATED",
        "to_status": "UNDER_REVIEW",
        "actor": "system",
        "reason": None,
        "at": "2026-11-30T08:15:02Z",
    },
    {
        "from_status": "UNDER_REVIEW",
        "to_status": "APPROVED",
        "actor": "mgr1",
        "reason": None,
        "at": "2026-11-30T09:02:00Z",
    },
    {
        "from_status": "APPROVED",
        "to_status": "IN_PRODUCTION",
        "actor": "system",
        "reason": None,
        "at": "2026-11-30T09:02:10Z",
    },
    {
        "from_status": "IN_PRODUCTION",
        "to_status": "AWAITING_SHIPMENT",
        "actor": "prod1",
        "reason": None,
        "at": "2026-11-30T15:21:00Z",
    },
    {
        "from_status": "AWAITING_SHIPMENT",
        "to_status": "SHIPPED",
        "actor": "log1",
        "reason": "handed to the carrier",
        "at": "2026-11-30T16:05:00Z",
    },
]
ORDER_EXAMPLE: JsonDict = {
    **ORDER_SUMMARY_EXAMPLE,
    "lines": ORDER_LINES_EXAMPLE,
    "rejection_reasons": [],
    "review": REVIEW_EXAMPLE,
    "production": PRODUCTION_EXAMPLE,
    "production_records": [PRODUCTION_RECORD_EXAMPLE],
    "stock_movements": [STOCK_MOVEMENT_EXAMPLE],
    "shipment": SHIPMENT_EXAMPLE,
    "history": HISTORY_EXAMPLE,
}

# The same order as its customer reads it.
CUSTOMER_ORDER_SUMMARY_EXAMPLE: JsonDict = {
    "order_no": "SO-2026-000123",
    "status": "SHIPPED",
    "status_label": {"en": "Shipped", "zh": "已发货"},
    "held_from": None,
    "customer_id": 1,
    "total": "94900.00",
    "currency": "CNY",
    "created_at": "2026-11-30T08:15:00Z",
    "requested_delivery_date": "2026-12-14",
    "archived_at": None,
}

# A webhook subscription of ops.
WEBHOOK_EXAMPLE: JsonDict = {
    "id": 3,
    "url": "https://erp.example.com/hooks/orderflow",
    "events": ["approved", "shipped", "delivered"],
    "active": True,
    "created_by": "ops1",
    "created_at": "2026-11-28T10:05:00Z",
}
