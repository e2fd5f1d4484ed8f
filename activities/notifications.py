"""Notification activities: write the outbox, then deliver its pending rows.

``notify`` turns one event into rows: an in-app notice per recipient (delivered by being
written), an e-mail per recipient with an address, and a webhook delivery per active
subscription to the event. Every row's key is the event's key plus the channel and addressee,
so a retried ``notify`` adds nothing. ``deliver`` sends one e-mail or webhook and raises on any
failure, leaving the retrying and the giving up to the workflow's retry policy;
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
from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.records import find_order
from api.security import sign_body
from config import Settings
from db.models import Notification, Order, User, WebhookSubscription
from domain.notifications import EMAIL, IN_APP, NOTIFICATION_EVENTS, WEBHOOK

# Each bounded well inside the deliver activity's start-to-close timeout, so a hung server
# surfaces as this attempt's error rather than as an activity timeout.
SMTP_TIMEOUT_SECONDS = 10.0
WEBHOOK_TIMEOUT_SECONDS = 10.0
# Row keys add the channel and a username (up to 64 characters) to the event's key, and must
# fit the 200 characters of notifications.key.
MAX_NOTICE_KEY = 120
SUBJECT_LIMIT = 300  # notifications.subject
# Enough of a refusing receiver's answer to tell why, without storing whole error pages.
ERROR_EXCERPT = 300

SIGNATURE_HEADER = "X-Orderflow-Signature"
EVENT_HEADER = "X-Orderflow-Event"
IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(kw_only=True)
class NoticeRequest:
    """One event to tell people and subscribed systems about.

    ``key`` names the event once and for all (``"SO-2026-000001:shipped"``): the same key
    again writes nothing new. Recipients are the union of ``recipients`` (usernames), every
    active user holding one of ``roles`` and, with ``order_customer``, every active user of
    the order's customer, minus ``exclude``.
    """

    key: str
    event: str
    order_no: str | None
    subject: str
    body: str
    data: dict[str, Any] = field(default_factory=dict)  # JSON-native values only
    recipients: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    order_customer: bool = False
    exclude: list[str] = field(default_factory=list)


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
    async def notify(self, request: NoticeRequest) -> list[int]:
        """Write the event's rows on every channel; the ids of those still to be delivered."""
        if request.event not in NOTIFICATION_EVENTS:
            raise ApplicationError(
                f"unknown notification event {request.event}", non_retryable=True
            )
        if not request.key or len(request.key) > MAX_NOTICE_KEY:
            raise ApplicationError(
                f"a notice key has 1 to {MAX_NOTICE_KEY} characters: {request.key!r}",
                non_retryable=True,
            )
        if request.order_customer and not request.order_no:
            raise ApplicationError(
                "order_customer needs the order_no whose customer to notify", non_retryable=True
            )
        now = datetime.now(UTC)
        subject = request.subject[:SUBJECT_LIMIT]
        async with self.sessions.begin() as session:
            order = await find_order(session, request.order_no) if request.order_no else None
            users = await _recipients(session, request, order)
            subscriptions = await session.scalars(
                select(WebhookSubscription)
                .where(
                    WebhookSubscription.active,
                    WebhookSubscription.events.contains([request.event]),
                )
                .order_by(WebhookSubscription.id)
            )

            def row(key: str, channel: str, status: str, **fields: Any) -> dict[str, Any]:
                # Every row names every column: a multi-row INSERT takes one set of columns.
                return {
                    "recipient": None,
                    "target": None,
                    "subscription_id": None,
                    "sent_at": None,
                    **fields,
                    "key": key,
                    "event": request.event,
                    "channel": channel,
                    "order_id": order.id if order else None,
                    "subject": subject,
                    "body": request.body,
                    "status": status,
                    "created_at": now,
                    # What a webhook receives, kept on every channel's row alike.
                    "payload": {
                        "event": request.event,
                        "order_no": request.order_no,
                        "subject": subject,
                        "body": request.body,
                        "data": request.data,
                        "key": key,
                        "created_at": now.isoformat(),
                    },
                }

            rows = []
            for user in users:
                rows.append(
                    row(
                        f"{request.key}:{IN_APP}:{user.username}",
                        IN_APP,
                        "sent",
                        recipient=user.username,
                        sent_at=now,
                    )
                )
                if user.email:
                    rows.append(
                        row(
                            f"{request.key}:{EMAIL}:{user.username}",
                            EMAIL,
                            "pending",
                            recipient=user.username,
                            target=user.email,
                        )
                    )
            for subscription in subscriptions:
                rows.append(
                    row(
                        f"{request.key}:{WEBHOOK}:{subscription.id}",
                        WEBHOOK,
                        "pending",
                        target=subscription.url,
                        subscription_id=subscription.id,
                    )
                )
            if rows:
                await session.execute(
                    insert(Notification).values(rows).on_conflict_do_nothing(index_elements=["key"])
                )
            # Pending rows an earlier attempt wrote count too: they still need delivering.
            pending = await session.scalars(
                select(Notification.id)
                .where(
                    Notification.key.in_([r["key"] for r in rows]),
                    Notification.status == "pending",
                )
                .order_by(Notification.id)
            )
            return list(pending)

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
            values["last_error"] = str(values["last_error"])[:2000]
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


async def _recipients(
    session: AsyncSession, request: NoticeRequest, order: Order | None
) -> list[User]:
    """Active users named, holding a named role or (if asked) belonging to the order's
    customer; never the excluded ones."""
    who: list[ColumnElement[bool]] = []
    if request.recipients:
        who.append(User.username.in_(request.recipients))
    if request.roles:
        who.append(User.roles.overlap(request.roles))
    if request.order_customer and order is not None:
        who.append(User.customer_id == order.customer_id)
    if not who:
        return []
    query = select(User).where(User.active, or_(*who))
    if request.exclude:
        query = query.where(User.username.not_in(request.exclude))
    return list(await session.scalars(query.order_by(User.username)))


def _smtp_send(settings: Settings, message: EmailMessage) -> None:
    """Blocking SMTP conversation; runs in a thread so the worker's event loop keeps going."""
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_username, password)
        smtp.send_message(message)
