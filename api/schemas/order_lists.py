"""Orders as a list shows them (``GET /orders`` and its CSV export): the summary, plus what
an ops person scans a list for: the customer's code, when the order last changed, and whom an
order under review waits on."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from api.schemas.common import Page
from api.schemas.customer import CustomerOrderSummary
from api.schemas.examples import CUSTOMER_ORDER_SUMMARY_EXAMPLE, ORDER_SUMMARY_EXAMPLE
from api.schemas.orders import OrderSummary

# What a list adds to the summary examples (the staff one shows an escalated review level).
_LISTED = {"customer_code": "ACME", "updated_at": "2026-11-30T09:40:00Z"}


class OrderListItem(OrderSummary):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **ORDER_SUMMARY_EXAMPLE,
                    "status": "UNDER_REVIEW",
                    "status_label": {"en": "Under review", "zh": "审核中"},
                    **_LISTED,
                    "waiting_role": "manager",
                    "escalated_to": "director",
                }
            ]
        }
    )

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

    model_config = ConfigDict(
        json_schema_extra={"examples": [{**CUSTOMER_ORDER_SUMMARY_EXAMPLE, **_LISTED}]}
    )

    customer_code: str
    updated_at: datetime


OrderListPageView = Page[OrderListItem] | Page[CustomerOrderListItem]
