"""What a caller writes to create or change users, customers, products, prices and
production lines; every field bounded as its column is."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.schemas.types import SingleLine, StrictCount, StrictId, UnitPrice
from domain.roles import Role

# Codes, SKUs and usernames: letters, digits and a few separators, so they read well in URLs.
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
EMAIL_PATTERN = r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$"
# ``Numeric(8, 2)``: a routing step's standard minutes per unit; ``Numeric(10, 2)``: a line's
# units per hour.
MAX_STEP_MINUTES = Decimal("999999.99")
MAX_UNITS_PER_HOUR = Decimal("99999999.99")
MAX_ROUTING_STEPS = 50
MAX_LINES_PER_PRODUCT = 50
MAX_CONTACTS = 20

Name = Annotated[SingleLine, Field(min_length=1, max_length=200)]
Email = Annotated[str, Field(pattern=EMAIL_PATTERN, max_length=200, examples=["buyer@acme.test"])]
CustomerCode = Annotated[str, Field(pattern=CODE_PATTERN, max_length=32, examples=["ACME"])]
Sku = Annotated[str, Field(pattern=CODE_PATTERN, max_length=64, examples=["PUMP-100"])]
LineCode = Annotated[str, Field(pattern=CODE_PATTERN, max_length=32, examples=["LINE-1"])]
Username = Annotated[str, Field(pattern=CODE_PATTERN, max_length=64, examples=["sales2"])]
Password = Annotated[
    str,
    Field(
        min_length=1,
        max_length=128,
        description="At least 10 characters, 4 different ones, not containing the username.",
    ),
]
CreditLimit = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2, allow_inf_nan=False)]
Risk = Literal["low", "normal", "high"]
Category = Annotated[str, Field(pattern=CODE_PATTERN, max_length=64, examples=["general"])]
StepMinutes = Annotated[
    Decimal, Field(gt=0, le=MAX_STEP_MINUTES, decimal_places=2, allow_inf_nan=False)
]
UnitsPerHour = Annotated[
    Decimal, Field(gt=0, le=MAX_UNITS_PER_HOUR, decimal_places=2, allow_inf_nan=False)
]
# The day a price takes effect (today or later, checked by the service).
PriceDay = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2099, 12, 31))]


class PartialUpdate(BaseModel):
    """A change that names only the fields it changes. ``null`` clears a field only where
    the field may be empty (``NULLABLE``); elsewhere it is refused, not written."""

    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def no_null_where_a_value_is_needed(self) -> Self:
        cleared = sorted(
            name
            for name in self.model_fields_set
            if getattr(self, name) is None and name not in self.NULLABLE
        )
        if cleared:
            raise ValueError(f"{', '.join(cleared)} cannot be null; leave it out to keep it")
        return self


_USER_EXAMPLE: dict[str, Any] = {
    "username": "sales2",
    "full_name": "Li Na",
    "password": "a-long-first-password",
    "roles": ["sales"],
    "email": "li.na@erp.example.test",
    "customer_id": None,
}


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_USER_EXAMPLE]})

    username: Username
    full_name: Name
    password: Password
    roles: Annotated[list[Role], Field(min_length=1, max_length=len(Role))]
    email: Email | None = None
    customer_id: StrictId | None = Field(
        default=None, description="The customer a `customer` user acts for; only with that role."
    )


class UserUpdate(PartialUpdate):
    """Only the fields sent change: `active: false` deactivates (the user can no longer sign
    in and its tokens stop working), `password` resets the password."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"roles": ["sales", "logistics"]}, {"active": False}]},
    )

    NULLABLE = frozenset({"email", "customer_id"})

    full_name: Name | None = None
    password: Password | None = None
    roles: Annotated[list[Role], Field(min_length=1, max_length=len(Role))] | None = None
    email: Email | None = None
    customer_id: StrictId | None = None
    active: bool | None = None


class UserAccountPublic(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 12,
                    "username": "sales2",
                    "full_name": "Li Na",
                    "roles": ["sales"],
                    "email": "li.na@erp.example.test",
                    "customer_id": None,
                    "active": True,
                }
            ]
        },
    )

    id: int
    username: str
    full_name: str
    roles: list[str]
    email: str | None
    customer_id: int | None
    active: bool


class Contact(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Wang Wei",
                    "email": "wang.wei@acme.test",
                    "phone": "+86 21 5555 0100",
                    "role": "buyer",
                }
            ]
        },
    )

    name: Name
    email: Email | None = None
    phone: Annotated[SingleLine, Field(max_length=40)] | None = None
    role: Annotated[SingleLine, Field(max_length=64)] | None = None


_CUSTOMER_EXAMPLE: dict[str, Any] = {
    "code": "NORTHWIND",
    "name": "Northwind Trading Ltd.",
    "credit_limit": "250000.00",
    "risk": "normal",
    "contacts": [{"name": "Wang Wei", "email": "wang.wei@northwind.test"}],
    "notification_email": "orders@northwind.test",
}


class CustomerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_CUSTOMER_EXAMPLE]})

    code: CustomerCode
    name: Name
    credit_limit: CreditLimit
    risk: Risk = "normal"
    contacts: Annotated[list[Contact], Field(max_length=MAX_CONTACTS)] = []
    notification_email: Email | None = None


class CustomerUpdate(PartialUpdate):
    """Only the fields sent change; `active: false` deactivates (new orders for it are
    rejected at validation, open ones go on)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"credit_limit": "300000.00"}, {"active": False}]},
    )

    NULLABLE = frozenset({"notification_email"})

    name: Name | None = None
    credit_limit: CreditLimit | None = None
    risk: Risk | None = None
    contacts: Annotated[list[Contact], Field(max_length=MAX_CONTACTS)] | None = None
    notification_email: Email | None = None
    active: bool | None = None


class RoutingStepCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "machine", "minutes_per_unit": "12.00"}]},
    )

    name: Annotated[SingleLine, Field(min_length=1, max_length=64)]
    minutes_per_unit: StepMinutes


Routing = Annotated[list[RoutingStepCreate], Field(min_length=1, max_length=MAX_ROUTING_STEPS)]
LineCodes = Annotated[list[LineCode], Field(max_length=MAX_LINES_PER_PRODUCT)]

_PRODUCT_EXAMPLE: dict[str, Any] = {
    "sku": "VALVE-20",
    "name": "Ball valve DN20",
    "category": "general",
    "unit_price": "86.50",
    "reorder_point": 50,
    "line_codes": ["LINE-1"],
    "routing": [
        {"name": "machine", "minutes_per_unit": "4.00"},
        {"name": "assemble", "minutes_per_unit": "3.50"},
    ],
}


class ProductCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_PRODUCT_EXAMPLE]})

    sku: Sku
    name: Name
    category: Category = "general"
    unit_price: UnitPrice = Field(
        description="The price from today (UTC); later prices go on the price list."
    )
    reorder_point: StrictCount = 0
    line_codes: LineCodes = Field(
        default=[], description="Lines that can make it; empty means any active line."
    )
    routing: Routing


class ProductUpdate(PartialUpdate):
    """Only the fields sent change; prices change through the price list."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reorder_point": 80}, {"active": False}]},
    )

    name: Name | None = None
    category: Category | None = None
    reorder_point: StrictCount | None = None
    line_codes: LineCodes | None = None
    routing: Routing | None = None
    active: bool | None = None


class PriceCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"unit_price": "89.00", "effective_from": "2027-01-01"}]},
    )

    unit_price: UnitPrice
    effective_from: PriceDay = Field(
        description="The first day (UTC) the price applies: today or later.",
    )


class PricePublic(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "sku": "VALVE-20",
                    "unit_price": "89.00",
                    "effective_from": "2027-01-01",
                    "created_by": "ops1",
                    "created_at": "2026-12-01T09:30:00Z",
                }
            ]
        },
    )

    sku: str
    unit_price: Decimal
    effective_from: date
    created_by: str
    created_at: datetime


class ProductionLineCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"code": "LINE-2", "name": "Assembly line 2", "units_per_hour": "30.00"}]
        },
    )

    code: LineCode
    name: Name
    units_per_hour: UnitsPerHour


class ProductionLineUpdate(PartialUpdate):
    """Only the fields sent change; `active: false` deactivates (no new work is booked on
    it, work already booked goes on)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"units_per_hour": "45.00"}, {"active": False}]},
    )

    name: Name | None = None
    units_per_hour: UnitsPerHour | None = None
    active: bool | None = None
