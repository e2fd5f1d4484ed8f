"""The caller's in-app notifications, and the webhook subscriptions ops manage.

The rows themselves are written by the notification activities; here they are only read,
marked read, and subscriptions made or switched off.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import Row, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from api import schemas
from api.errors import InvalidRequest, NotFound
from api.paging import decode_cursor, encode_cursor
from db.models import Notification, Order, User, WebhookSubscription
from domain.notifications import IN_APP, WEBHOOK
from domain.webhook_targets import webhook_target_refusal

# 32 random bytes: as strong as the HMAC-SHA256 it keys.
SECRET_BYTES = 32


def _with_order_no(query: Select[Notification]) -> Select[Notification, str | None]:
    return query.add_columns(Order.order_no).outerjoin(Order, Order.id == Notification.order_id)


async def _page(
    session: AsyncSession,
    query: Select[Notification],
    limit: int,
    cursor: str | None,
) -> tuple[list[Row[Notification, str | None]], str | None]:
    """Newest first; the cursor is the last row seen, so pages stay put as new rows arrive."""
    if cursor:
        query = query.where(Notification.id < decode_cursor(cursor))
    rows = list(
        await session.execute(
            _with_order_no(query).order_by(Notification.id.desc()).limit(limit + 1)
        )
    )
    next_cursor = encode_cursor(rows[limit - 1][0].id) if len(rows) > limit else None
    return rows[:limit], next_cursor


def _notification_public(row: Notification, order_no: str | None) -> schemas.NotificationPublic:
    return schemas.NotificationPublic(
        id=row.id,
        event=row.event,
        order_no=order_no,
        subject=row.subject,
        body=row.body,
        data=row.payload.get("data") or {},
        created_at=row.created_at,
        read_at=row.read_at,
    )


def _inbox(user: User) -> Select[Notification]:
    return select(Notification).where(
        Notification.channel == IN_APP, Notification.recipient == user.username
    )


async def list_notifications(
    session: AsyncSession, user: User, *, unread: bool | None, limit: int, cursor: str | None
) -> schemas.Page[schemas.NotificationPublic]:
    """The caller's own in-app notifications; ``unread`` keeps only those not yet read."""
    query = _inbox(user)
    if unread is True:
        query = query.where(Notification.read_at.is_(None))
    elif unread is False:
        query = query.where(Notification.read_at.is_not(None))
    rows, next_cursor = await _page(session, query, limit, cursor)
    return schemas.Page(
        data=[_notification_public(row, order_no) for row, order_no in rows],
        next_cursor=next_cursor,
    )


async def mark_read(
    session: AsyncSession, user: User, notification_id: int
) -> schemas.NotificationPublic:
    """Mark one of the caller's notifications read; the first reading time stays."""
    query = _with_order_no(_inbox(user).where(Notification.id == notification_id))
    found = (await session.execute(query.with_for_update(of=Notification))).one_or_none()
    if found is None:
        # Someone else's notification is as absent as one that never existed.
        raise NotFound(f"notification {notification_id} does not exist")
    row, order_no = found
    if row.read_at is None:
        row.read_at = datetime.now(UTC)
        await session.commit()
    return _notification_public(row, order_no)


async def create_subscription(
    session: AsyncSession,
    user: User,
    body: schemas.WebhookSubscriptionCreate,
    *,
    allow_private_targets: bool,
) -> schemas.WebhookSubscriptionCreated:
    """Subscribe ``body.url``; 422 when its host is, or resolves to, an address in a private,
    loopback, link-local or similar range, unless ``allow_private_targets``."""
    if not allow_private_targets:
        refusal = await webhook_target_refusal(str(body.url), must_resolve=True)
        if refusal is not None:
            raise InvalidRequest(
                f"{refusal}; webhooks go to public addresses only "
                "(WEBHOOK_ALLOW_PRIVATE_TARGETS=true allows private ones)"
            )
    subscription = WebhookSubscription(
        url=str(body.url),
        secret=secrets.token_hex(SECRET_BYTES),
        # Once each, in the order given.
        events=list(dict.fromkeys(event.value for event in body.events)),
        active=True,
        created_by=user.username,
    )
    session.add(subscription)
    await session.commit()
    return schemas.WebhookSubscriptionCreated(
        **schemas.WebhookSubscriptionPublic.model_validate(subscription).model_dump(),
        secret=subscription.secret,
    )


async def list_subscriptions(
    session: AsyncSession,
) -> schemas.Page[schemas.WebhookSubscriptionPublic]:
    """Every subscription, switched off ones included, oldest first; never their secrets."""
    rows = await session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id))
    return schemas.Page(data=[schemas.WebhookSubscriptionPublic.model_validate(s) for s in rows])


async def _subscription(
    session: AsyncSession, subscription_id: int, *, lock: bool = False
) -> WebhookSubscription:
    subscription = await session.get(WebhookSubscription, subscription_id, with_for_update=lock)
    if subscription is None:
        raise NotFound(f"webhook subscription {subscription_id} does not exist")
    return subscription


async def deactivate_subscription(session: AsyncSession, subscription_id: int) -> None:
    """Switch a subscription off: it receives nothing more, not even deliveries still
    waiting for a retry. The row and its delivery record stay."""
    subscription = await _subscription(session, subscription_id, lock=True)
    subscription.active = False
    await session.commit()


async def deliveries(
    session: AsyncSession, subscription_id: int, *, limit: int, cursor: str | None
) -> schemas.Page[schemas.WebhookDeliveryPublic]:
    """What was sent to a subscription, newest first, with attempts and the last error."""
    await _subscription(session, subscription_id)
    query = select(Notification).where(
        Notification.channel == WEBHOOK, Notification.subscription_id == subscription_id
    )
    rows, next_cursor = await _page(session, query, limit, cursor)
    return schemas.Page(
        data=[
            schemas.WebhookDeliveryPublic(
                id=row.id,
                key=row.key,
                event=row.event,
                order_no=order_no,
                status=row.status,
                attempts=row.attempts,
                last_error=row.last_error,
                created_at=row.created_at,
                sent_at=row.sent_at,
            )
            for row, order_no in rows
        ],
        next_cursor=next_cursor,
    )
