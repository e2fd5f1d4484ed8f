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

from pydantic import BaseModel, Field

from api.schemas.common import Page
from api.schemas.fulfilment import ShipmentPublic
from api.schemas.orders import HistoryPublic, OrderPublic, OrderSummary
from api.schemas.reference import StatusLabel


class CustomerOrderLinePublic(BaseModel):
    line_no: int
    sku: str
    quantity: int
    unit_price: Decimal | None
    amount: Decimal | None


class CustomerTransitionPublic(BaseModel):
    """One change of the order's status: from what, to what, and when."""

    from_status: str | None
    to_status: str
    actor: str | None = Field(
        description="The customer's own user who made the change (a receipt confirmation); "
        "null for changes made inside."
    )
    at: datetime


class CustomerOrderSummary(BaseModel):
    """An order in a customer's list."""

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


class CustomerOrderPublic(CustomerOrderSummary):
    """An order as its customer sees it (staff get OrderPublic): lines, total, status,
    shipment with its tracking timeline, and every change of status with its time."""

    lines: list[CustomerOrderLinePublic]
    shipment: ShipmentPublic | None
    history: list[CustomerTransitionPublic]


# What the endpoints that return orders answer: staff get the staff shapes, customer users the
# customer's.
OrderView = OrderPublic | CustomerOrderPublic
OrderPageView = Page[OrderSummary] | Page[CustomerOrderSummary]
HistoryPageView = Page[HistoryPublic] | Page[CustomerTransitionPublic]
