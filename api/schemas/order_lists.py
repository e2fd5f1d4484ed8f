"""Orders as a list shows them (``GET /orders`` and its CSV export): the summary, plus what
an ops person scans a list for: the customer's code, when the order last changed, and whom an
order under review waits on."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from api.schemas.common import Page
from api.schemas.customer import CustomerOrderSummary
from api.schemas.orders import OrderSummary


class OrderListItem(OrderSummary):
    customer_code: str
    updated_at: datetime = Field(description="When the order's record last changed.")
    waiting_role: str | None = Field(
        description="Under review: the role of the open level; null otherwise."
    )
    escalated_to: str | None = Field(
        description="Under review with the open level escalated: the role it escalated to, "
        "which may decide it as well."
    )


class CustomerOrderListItem(CustomerOrderSummary):
    """An order in a customer's list; how it is handled inside is left out."""

    customer_code: str
    updated_at: datetime


OrderListPageView = Page[OrderListItem] | Page[CustomerOrderListItem]
