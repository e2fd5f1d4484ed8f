"""The customer's view of its orders: what it ordered, what it costs, where the order stands
and where the goods are, and what its own people did; never how the order is handled inside
(approvers and their comments, who was reminded, shop-floor reports and notes, stock
movements, alerts, hold and rejection reasons, the staff who acted).

A customer user gets these shapes wherever staff get :class:`~api.schemas.OrderPublic`,
:class:`~api.schemas.OrderSummary` and :class:`~api.schemas.HistoryPublic`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Page
from api.schemas.examples import CUSTOMER_ORDER_SUMMARY_EXAMPLE, SHIPMENT_EXAMPLE
from api.schemas.fulfilment import ShipmentPublic
from api.schemas.orders import HistoryPublic, OrderPublic
from api.schemas.reference import StatusLabel
from api.schemas.shipping import CustomerShipmentPublic


class CustomerOrderLinePublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "line_no": 1,
                    "sku": "PUMP-100",
                    "quantity": 50,
                    "unit_price": "1850.00",
                    "amount": "92500.00",
                    "promised_date": "2026-12-02",
                }
            ]
        }
    )

    line_no: int
    sku: str
    quantity: int
    unit_price: Decimal | None
    amount: Decimal | None
    promised_date: date | None = Field(
        default=None,
        description="The day we promise the line reaches you (UTC), set when the order is "
        "approved; if it moves, you are notified with the old and the new date. Null before "
        "approval.",
    )
    shipped_qty: int = 0
    delivered_qty: int = 0


class CustomerTransitionPublic(BaseModel):
    """One change of the order's status: from what, to what, and when."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "from_status": "AWAITING_SHIPMENT",
                    "to_status": "SHIPPED",
                    "actor": None,
                    "at": "2026-11-30T16:05:00Z",
                }
            ]
        }
    )

    from_status: str | None
    to_status: str
    actor: str | None = Field(
        description="The customer's own user who made the change (a receipt confirmation); "
        "null for changes made inside."
    )
    at: datetime


class CustomerOrderSummary(BaseModel):
    """An order in a customer's list."""

    model_config = ConfigDict(json_schema_extra={"examples": [CUSTOMER_ORDER_SUMMARY_EXAMPLE]})

    order_no: str
    status: str
    status_label: StatusLabel
    held_from: str | None = Field(description="On hold: the status the order resumes to.")
    customer_id: int
    total: Decimal | None
    currency: str
    created_at: datetime
    requested_delivery_date: date | None = Field(
        description="The day the customer asked to receive the goods; null when none."
    )
    archived_at: datetime | None = Field(
        default=None,
        description="When the order was archived (closed longer than ARCHIVE_AFTER): it is "
        "read-only and listed only with `archived=true`; null while it is not.",
    )


class CustomerOrderPublic(CustomerOrderSummary):
    """An order as its customer sees it (staff get OrderPublic): lines, total, status,
    shipment with its tracking timeline, and every change of status with its time."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **CUSTOMER_ORDER_SUMMARY_EXAMPLE,
                    "lines": [
                        {
                            "line_no": 1,
                            "sku": "PUMP-100",
                            "quantity": 50,
                            "unit_price": "1850.00",
                            "amount": "92500.00",
                            "promised_date": "2026-12-02",
                        },
                        {
                            "line_no": 2,
                            "sku": "VALVE-25",
                            "quantity": 20,
                            "unit_price": "120.00",
                            "amount": "2400.00",
                            "promised_date": "2026-12-02",
                        },
                    ],
                    "shipment": SHIPMENT_EXAMPLE,
                    "history": [
                        {
                            "from_status": None,
                            "to_status": "CREATED",
                            "actor": None,
                            "at": "2026-11-30T08:15:00Z",
                        },
                        {
                            "from_status": "AWAITING_SHIPMENT",
                            "to_status": "SHIPPED",
                            "actor": None,
                            "at": "2026-11-30T16:05:00Z",
                        },
                    ],
                }
            ]
        }
    )

    lines: list[CustomerOrderLinePublic]
    shipment: ShipmentPublic | None = Field(description="The latest shipment.")
    shipments: list[CustomerShipmentPublic] = Field(default_factory=list)
    partially_shipped: bool = False
    backorder_cancelled_at: datetime | None = None
    history: list[CustomerTransitionPublic]


# What the endpoints that return orders answer: staff get the staff shapes, customer users the
# customer's.
OrderView = OrderPublic | CustomerOrderPublic
HistoryPageView = Page[HistoryPublic] | Page[CustomerTransitionPublic]
