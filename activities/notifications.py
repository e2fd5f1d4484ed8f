"""Notification delivery: e-mails and webhooks from the outbox, one row at a time.

The rows are written by whatever change they announce (``activities/outbox.py``). The delivery
workflow of each channel waits in ``await_outbox`` until PostgreSQL says a row is pending, takes
the pending rows with ``pending_deliveries`` and sends each with ``deliver``, which raises on
any failure and leaves the retrying and the giving up to the workflow's retry policy;
``record_failure`` writes down a delivery the workflow gave up on. A worker that dies between
sending and recording the success sends again, so every webhook carries its row's key as
``Idempotency-Key`` and every e-mail a Message-ID derived from it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import httpx
import psycopg
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.outbox import OUTBOX_CHANNEL
from config import Settings
from db.models import Notification, WebhookSubscription
from domain.notifications import EMAIL, WEBHOOK
from domain.signatures import sign_body
from domain.text import storable
from domain.webhook_targets import webhook_target_refusal

# Each bounded well inside the deliver activity's start-to-close timeout, so a hung server
# surfaces as this attempt's error rather than as an activity timeout.
SMTP_TIMEOUT_SECONDS = 10.0
WEBHOOK_TIMEOUT_SECONDS = 10.0
# Enough of a refusing receiver's answer to tell why, without storing whole error pages.
ERROR_EXCERPT = 300
# How long one wait for the outbox lasts before it reports "nothing" (the workflow asks
# again), and how often it tells Temporal it is alive meanwhile.
OUTBOX_WAIT_SECONDS = 60.0
HEARTBEAT_SECONDS = 5.0

SIGNATURE_HEADER = "X-Orderflow-Signature"
EVENT_HEADER = "X-Orderflow-Event"
IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass
class DeliveryClaim:
    """Pending rows of ``channel`` to deliver, leaving out those already being delivered."""

    channel: str
    exclude: list[int] = field(default_factory=list)
    limit: int = 100


@dataclass(frozen=True)
class _Attempt:
    """What one delivery attempt sends, read in its own short transaction."""

    key: str
    event: str
    channel: str
    target: str
    subject: str
    body: str
    payload: dict[str, Any]
    created_at: datetime
    secret: str | None


def message_id_for(key: str, sender: str) -> str:
    """The same Message-ID for every attempt at one e-mail, so a resend reads as a duplicate."""
    domain = sender.rpartition("@")[2] or "orderflow"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def webhook_body(payload: dict[str, Any]) -> bytes:
    """The bytes that are signed and posted; the same for every attempt at one delivery."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class NotificationActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings

    @activity.defn
    async def await_outbox(self, claim: DeliveryClaim) -> bool:
        """Wait until a row of the channel is pending, other than those being delivered;
        False when none came in the while.

        Listens before it looks, so a row committed in between is seen either way.
        """
        conninfo = self.settings.sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://")
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
            await conn.execute(f"LISTEN {OUTBOX_CHANNEL}")
            if await self._has_pending(claim):
                return True
            loop = asyncio.get_running_loop()
            deadline = loop.time() + OUTBOX_WAIT_SECONDS
            while (left := deadline - loop.time()) > 0:
                activity.heartbeat()
                async for notice in conn.notifies(timeout=min(left, HEARTBEAT_SECONDS)):
                    if notice.payload == claim.channel:
                        return True
            return await self._has_pending(claim)

    @activity.defn
    async def pending_deliveries(self, claim: DeliveryClaim) -> list[int]:
        """Ids of the oldest pending rows of the channel not already being delivered."""
        async with self.sessions() as session:
            query = (
                select(Notification.id)
                .where(Notification.channel == claim.channel, Notification.status == "pending")
                .order_by(Notification.id)
                .limit(claim.limit)
            )
            if claim.exclude:
                query = query.where(Notification.id.not_in(claim.exclude))
            return list(await session.scalars(query))

    async def _has_pending(self, claim: DeliveryClaim) -> bool:
        return bool(await self.pending_deliveries(DeliveryClaim(claim.channel, claim.exclude, 1)))

    @activity.defn
    async def deliver(self, notification_id: int) -> None:
        """Send one pending e-mail or webhook; raise when it did not arrive, to be retried."""
        attempt = await self._begin_attempt(notification_id)
        if attempt is None:
            return
        try:
            if attempt.channel == EMAIL:
                await self._send_email(attempt)
            else:
                await self._post_webhook(attempt)
        except ApplicationError as error:
            # Written now, so a delivery still being retried shows why its last try failed.
            await self._set_fields(notification_id, last_error=error.message)
            raise
        await self._set_fields(notification_id, status="sent", sent_at=datetime.now(UTC))

    @activity.defn
    async def record_failure(self, notification_id: int, error: str) -> None:
        """The workflow gave up on this delivery: it stays failed, with the last error."""
        await self._set_fields(notification_id, status="failed", last_error=error)

    async def _begin_attempt(self, notification_id: int) -> _Attempt | None:
        """Count the attempt (committed whatever the send does); None if nothing to send."""
        async with self.sessions.begin() as session:
            row = await session.get(Notification, notification_id, with_for_update=True)
            if row is None:
                raise ApplicationError(
                    f"notification {notification_id} does not exist", non_retryable=True
                )
            if row.status != "pending" or row.channel not in (EMAIL, WEBHOOK) or not row.target:
                return None
            secret = None
            if row.channel == WEBHOOK:
                subscription = (
                    await session.get(WebhookSubscription, row.subscription_id)
                    if row.subscription_id is not None
                    else None
                )
                if subscription is None or not subscription.active:
                    # Deactivating a subscription stops what it had not yet received as well.
                    row.status = "failed"
                    row.last_error = "the subscription was deactivated before delivery"
                    return None
                secret = subscription.secret
            row.attempts += 1
            return _Attempt(
                key=row.key,
                event=row.event,
                channel=row.channel,
                target=row.target,
                subject=row.subject,
                body=row.body,
                payload=row.payload,
                created_at=row.created_at,
                secret=secret,
            )

    async def _set_fields(self, notification_id: int, **values: Any) -> None:
        if "last_error" in values:
            # A receiver's answer is quoted in the error: keep it storable, or the row could
            # never be marked and would be delivered again for ever.
            values["last_error"] = storable(str(values["last_error"]))[:2000]
        async with self.sessions.begin() as session:
            # Only a pending row changes: a late retry never undoes a sent or failed outcome.
            await session.execute(
                update(Notification)
                .where(Notification.id == notification_id, Notification.status == "pending")
                .values(**values)
            )

    async def _send_email(self, attempt: _Attempt) -> None:
        settings = self.settings
        message = EmailMessage()
        message["From"] = settings.smtp_from
        message["To"] = attempt.target
        message["Subject"] = attempt.subject
        message["Date"] = format_datetime(attempt.created_at)
        message["Message-ID"] = message_id_for(attempt.key, settings.smtp_from)
        message[EVENT_HEADER] = attempt.event
        message.set_content(attempt.body)
        try:
            await asyncio.to_thread(_smtp_send, settings, message)
        except (OSError, smtplib.SMTPException) as error:
            where = f"{settings.smtp_host}:{settings.smtp_port}"
            raise ApplicationError(
                f"SMTP {where} did not take the e-mail: {type(error).__name__}: {error}"
            ) from error

    async def _post_webhook(self, attempt: _Attempt) -> None:
        assert attempt.secret is not None
        if not self.settings.webhook_allow_private_targets:
            # Checked again: the name may point somewhere else since the subscription was made.
            refusal = await webhook_target_refusal(attempt.target, must_resolve=False)
            if refusal is not None:
                raise ApplicationError(f"not sent: {refusal}", non_retryable=True)
        body = webhook_body(attempt.payload)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign_body(body, attempt.secret),
            IDEMPOTENCY_HEADER: attempt.key,
            EVENT_HEADER: attempt.event,
        }
        try:
            async with httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT_SECONDS) as client:
                response = await client.post(attempt.target, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise ApplicationError(
                f"could not reach {attempt.target}: {type(error).__name__}: {error}"
            ) from error
        if not response.is_success:
            raise ApplicationError(
                f"{attempt.target} answered {response.status_code}: {response.text[:ERROR_EXCERPT]}"
            )


def _smtp_send(settings: Settings, message: EmailMessage) -> None:
    """Blocking SMTP conversation; runs in a thread so the worker's event loop keeps going."""
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_username, password)
        smtp.send_message(message)
