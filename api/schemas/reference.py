"""Reference data: order statuses, customers, and products with their stock and routing."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from api.schemas.fulfilment import AlertPublic


class StatusLabel(BaseModel):
    en: str
    zh: str


class OrderStatusPublic(BaseModel):
    status: str
    label: StatusLabel
    meaning: str
    next: list[str]
    terminal: bool


class CustomerPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    credit_limit: Decimal
    active: bool


class RoutingStepPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    minutes_per_unit: Decimal


class ProductPublic(BaseModel):
    sku: str
    name: str
    unit_price: Decimal
    active: bool
    stock_on_hand: int
    stock_reserved: int
    stock_available: int
    reorder_point: int
    low_stock: bool
    # The alert raised when available stock last fell below the reorder point, while it is.
    low_stock_alert: AlertPublic | None
    line_codes: list[str]
    routing: list[RoutingStepPublic]
