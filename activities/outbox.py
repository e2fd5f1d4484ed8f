"""The notification outbox: an event's rows, written in the transaction of the change it tells.

``write_notice`` turns one event into rows: an in-app notice per recipient (delivered by being
written), an e-mail per recipient with an address, and a webhook delivery per active
subscription to the event. Every row's key is the event's key plus the channel and addressee,
so writing the same event again (a retried activity) adds nothing. Rows that still need
delivering wake the delivery workflows through PostgreSQL's ``NOTIFY``, sent when the
transaction commits, and only then.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Row, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.exceptions import ApplicationError

from db.models import Notification, Order, User, WebhookSubscription
from domain.notifications import EMAIL, IN_APP, NOTIFICATION_EVENTS, WEBHOOK, NoticeRequest

# The PostgreSQL channel the delivery workflows listen on; the payload names the row's channel.
OUTBOX_CHANNEL = "orderflow_outbox"
# Row keys add the channel and a username (up to 64 characters) to the event's key, and must
# fit the 200 characters of notifications.key.
MAX_NOTICE_KEY = 120
SUBJECT_LIMIT = 300  # notifications.subject


def check_notice(notice: NoticeRequest) -> None:
    """A notice that can never be written is a bug: refuse it without retrying."""
    if notice.event not in NOTIFICATION_EVENTS:
        raise ApplicationError(f"unknown notification event {notice.event}", non_retryable=True)
    if not notice.key or len(notice.key) > MAX_NOTICE_KEY:
        raise ApplicationError(
            f"a notice key has 1 to {MAX_NOTICE_KEY} characters: {notice.key!r}",
            non_retryable=True,
        )
    if notice.order_customer and not notice.order_no:
        raise ApplicationError(
            "order_customer needs the order_no whose customer to notify", non_retryable=True
        )


class OrderKeys(Protocol):
    """What the outbox needs of the order a notice is about (an ``Order``, or a light row)."""

    @property
    def id(self) -> int: ...
    @property
    def order_no(self) -> str: ...
    @property
    def customer_id(self) -> int: ...


async def write_notices(
    session: AsyncSession, notices: list[NoticeRequest], order: OrderKeys | None = None
) -> None:
    """Write each notice's rows in the caller's transaction; the caller commits."""
    for notice in notices:
        await write_notice(session, notice, order)


async def write_notice(
    session: AsyncSession, notice: NoticeRequest, order: OrderKeys | None = None
) -> None:
    """Write the event's rows on every channel in the caller's transaction.

    ``order`` saves a lookup when the caller already holds the order the notice is about.
    """
    check_notice(notice)
    if notice.order_no and (order is None or order.order_no != notice.order_no):
        order = (
            await session.execute(
                select(Order.id, Order.order_no, Order.customer_id).where(
                    Order.order_no == notice.order_no
                )
            )
        ).one_or_none()
    now = datetime.now(UTC)
    subject = notice.subject[:SUBJECT_LIMIT]
    users = await _recipients(session, notice, order)
    subscriptions = (
        await session.execute(
            select(WebhookSubscription.id, WebhookSubscription.url)
            .where(
                WebhookSubscription.active,
                WebhookSubscription.events.contains([notice.event]),
            )
            .order_by(WebhookSubscription.id)
        )
    ).all()

    def row(key: str, channel: str, status: str, **fields: Any) -> dict[str, Any]:
        # Every row names every column: a multi-row INSERT takes one set of columns.
        return {
            "recipient": None,
            "target": None,
            "subscription_id": None,
            "sent_at": None,
            **fields,
            "key": key,
            "event": notice.event,
            "channel": channel,
            "order_id": order.id if order else None,
            "subject": subject,
            "body": notice.body,
            "status": status,
            "created_at": now,
            # What a webhook receives, kept on every channel's row alike.
            "payload": {
                "event": notice.event,
                "order_no": notice.order_no,
                "subject": subject,
                "body": notice.body,
                "data": notice.data,
                "key": key,
                "created_at": now.isoformat(),
            },
        }

    rows = []
    for user in users:
        rows.append(
            row(
                f"{notice.key}:{IN_APP}:{user.username}",
                IN_APP,
                "sent",
                recipient=user.username,
                sent_at=now,
            )
        )
        if user.email:
            rows.append(
                row(
                    f"{notice.key}:{EMAIL}:{user.username}",
                    EMAIL,
                    "pending",
                    recipient=user.username,
                    target=user.email,
                )
            )
    for subscription in subscriptions:
        rows.append(
            row(
                f"{notice.key}:{WEBHOOK}:{subscription.id}",
                WEBHOOK,
                "pending",
                target=subscription.url,
                subscription_id=subscription.id,
            )
        )
    if not rows:
        return
    inserted = await session.scalars(
        insert(Notification)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(Notification.channel)
    )
    for channel in sorted(set(inserted) - {IN_APP}):
        await session.execute(
            text("SELECT pg_notify(:name, :channel)"),
            {"name": OUTBOX_CHANNEL, "channel": channel},
        )


async def _recipients(
    session: AsyncSession, notice: NoticeRequest, order: OrderKeys | None
) -> Sequence[Row[str, str | None]]:
    """Active users named, holding a named role or (if asked) belonging to the order's
    customer; never the excluded ones."""
    who: list[ColumnElement[bool]] = []
    if notice.recipients:
        who.append(User.username.in_(notice.recipients))
    if notice.roles:
        who.append(User.roles.overlap(notice.roles))
    if notice.order_customer and order is not None:
        who.append(User.customer_id == order.customer_id)
    if not who:
        return ()
    query = select(User.username, User.email).where(User.active, or_(*who))
    if notice.exclude:
        query = query.where(User.username.not_in(notice.exclude))
    return (await session.execute(query.order_by(User.username))).all()
