"""Reference data: order statuses, customers, and products with their stock and routing."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from api.schemas.examples import ALERT_EXAMPLE
from api.schemas.fulfilment import AlertPublic


class StatusLabel(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"en": "Under review", "zh": "审核中"}]}
    )

    en: str
    zh: str


class OrderStatusPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "UNDER_REVIEW",
                    "label": {"en": "Under review", "zh": "审核中"},
                    "meaning": "waiting for approval decisions",
                    "next": ["APPROVED", "CANCELLED", "ON_HOLD", "REJECTED"],
                    "terminal": False,
                }
            ]
        }
    )

    status: str
    label: StatusLabel
    meaning: str
    next: list[str]
    terminal: bool


class CustomerPublic(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "code": "ACME",
                    "name": "Acme Industrial Co.",
                    "credit_limit": "5000000.00",
                    "active": True,
                    "risk": "normal",
                    "contacts": [{"name": "Wang Wei", "email": "wang.wei@acme.test"}],
                    "notification_email": "orders@acme.test",
                }
            ]
        },
    )

    id: int
    code: str
    name: str
    credit_limit: Decimal
    active: bool
    # The credit department's rating: low, normal or high.
    risk: str
    # People to talk to: name, and any of email, phone, role.
    contacts: list[dict[str, str]]
    notification_email: str | None


class RoutingStepPublic(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={"examples": [{"name": "machine", "minutes_per_unit": "12.00"}]},
    )

    name: str
    minutes_per_unit: Decimal


class ProductPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sku": "PUMP-100",
                    "name": "Centrifugal pump 100 L/min",
                    "unit_price": "1850.00",
                    "active": True,
                    "category": "general",
                    "stock_on_hand": 40,
                    "stock_reserved": 40,
                    "stock_available": 0,
                    "reorder_point": 10,
                    "low_stock": True,
                    "low_stock_alert": ALERT_EXAMPLE,
                    "line_codes": ["CELL-M", "LINE-1"],
                    "routing": [
                        {"name": "machine", "minutes_per_unit": "12.00"},
                        {"name": "assemble", "minutes_per_unit": "20.00"},
                        {"name": "test", "minutes_per_unit": "8.00"},
                    ],
                }
            ]
        }
    )

    sku: str
    name: str
    # The price in effect today (UTC) on the dated price list.
    unit_price: Decimal
    active: bool
    category: str
    stock_on_hand: int
    stock_reserved: int
    stock_available: int
    reorder_point: int
    low_stock: bool
    # The alert raised when available stock last fell below the reorder point, while it is.
    low_stock_alert: AlertPublic | None
    line_codes: list[str]
    routing: list[RoutingStepPublic]
