"""The events people and outside systems are told about, on every channel.

Webhook subscriptions name these events; the API refuses any other name, so a typo in a
subscription cannot silently receive nothing.
"""

from __future__ import annotations

from enum import StrEnum


class NotificationEvent(StrEnum):
    APPROVAL_REQUESTED = "approval_requested"
    REMINDER = "reminder"
    ESCALATED = "escalated"
    APPROVED = "approved"
    REJECTED = "rejected"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    LOW_STOCK = "low_stock"
    PRODUCTION_OVERDUE = "production_overdue"
    CARRIER_EXCEPTION = "carrier_exception"


NOTIFICATION_EVENTS: tuple[str, ...] = tuple(event.value for event in NotificationEvent)

# Channels of one notification row; in-app rows are delivered by being written.
IN_APP, EMAIL, WEBHOOK = "in_app", "email", "webhook"
