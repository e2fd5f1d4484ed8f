"""Notifications: the caller's in-app inbox, webhook subscriptions and their deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from api.schemas.examples import WEBHOOK_EXAMPLE
from domain.notifications import NotificationEvent


class NotificationPublic(BaseModel):
    """One in-app notification of the caller's; ``read_at`` is null until marked read."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 42,
                    "event": "approval_requested",
                    "order_no": "SO-2026-000123",
                    "subject": "SO-2026-000123: level 2 of 2 waits for manager approval",
                    "body": "Order SO-2026-000123: level 2 of 2 waits for manager approval. Status "
                    "UNDER_REVIEW.",
                    "data": {"status": "UNDER_REVIEW"},
                    "created_at": "2026-11-30T08:40:01Z",
                    "read_at": None,
                }
            ]
        }
    )

    id: int
    event: str
    order_no: str | None
    subject: str
    body: str
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


class WebhookSubscriptionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://erp.example.com/hooks/orderflow",
                    "events": ["approved", "shipped", "delivered"],
                }
            ]
        },
    )

    url: HttpUrl = Field(description="Where each event is POSTed, signed with the secret.")
    events: list[NotificationEvent] = Field(min_length=1)

    @field_validator("url")
    @classmethod
    def _fits(cls, url: HttpUrl) -> HttpUrl:
        if len(str(url)) > 500:
            raise ValueError("the URL is longer than 500 characters")
        return url


class WebhookSubscriptionPublic(BaseModel):
    model_config = ConfigDict(
        from_attributes=True, json_schema_extra={"examples": [WEBHOOK_EXAMPLE]}
    )

    id: int
    url: str
    events: list[str]
    active: bool
    created_by: str
    created_at: datetime


class WebhookSubscriptionCreated(WebhookSubscriptionPublic):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{**WEBHOOK_EXAMPLE, "secret": "whsec_5f0c2e8a9b1d4c7e6a3f8b2d1c0e9a7b"}]
        }
    )

    secret: str = Field(
        description="Signs every delivery (X-Orderflow-Signature: sha256=<HMAC-SHA256 of the "
        "body>); shown only in this answer."
    )


class WebhookDeliveryPublic(BaseModel):
    """One event sent, or being sent, to a subscription; ``key`` is its Idempotency-Key."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 310,
                    "key": "SO-2026-000123:approved",
                    "event": "approved",
                    "order_no": "SO-2026-000123",
                    "status": "sent",
                    "attempts": 1,
                    "last_error": None,
                    "created_at": "2026-11-30T09:02:01Z",
                    "sent_at": "2026-11-30T09:02:02Z",
                }
            ]
        }
    )

    id: int
    key: str
    event: str
    order_no: str | None
    status: Literal["pending", "sent", "failed"]
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
