"""Notifications: the caller's in-app inbox, webhook subscriptions and their deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from domain.notifications import NotificationEvent


class NotificationPublic(BaseModel):
    """One in-app notification of the caller's; ``read_at`` is null until marked read."""

    id: int
    event: str
    order_no: str | None
    subject: str
    body: str
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


class WebhookSubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: HttpUrl = Field(description="Where each event is POSTed, signed with the secret.")
    events: list[NotificationEvent] = Field(min_length=1)

    @field_validator("url")
    @classmethod
    def _fits(cls, url: HttpUrl) -> HttpUrl:
        if len(str(url)) > 500:
            raise ValueError("the URL is longer than 500 characters")
        return url


class WebhookSubscriptionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    events: list[str]
    active: bool
    created_by: str
    created_at: datetime


class WebhookSubscriptionCreated(WebhookSubscriptionPublic):
    secret: str = Field(
        description="Signs every delivery (X-Orderflow-Signature: sha256=<HMAC-SHA256 of the "
        "body>); shown only in this answer."
    )


class WebhookDeliveryPublic(BaseModel):
    """One event sent, or being sent, to a subscription; ``key`` is its Idempotency-Key."""

    id: int
    key: str
    event: str
    order_no: str | None
    status: Literal["pending", "sent", "failed"]
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
