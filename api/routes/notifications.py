"""Notifications: the caller's in-app inbox, and webhook subscriptions (ops)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from api import notifications as service
from api import schemas
from api.deps import CurrentUser, SessionDep, SettingsDep, require_roles
from api.errors import Forbidden, InvalidRequest, NotFound, Unauthorized, responses
from api.params import Cursor, PageLimit
from api.schemas.types import Id
from db.models import User
from domain.roles import Role

router = APIRouter(tags=["notifications"], responses=responses(Unauthorized))

Ops = Annotated[User, Depends(require_roles(Role.OPS))]


@router.get(
    "/notifications",
    response_model=schemas.Page[schemas.NotificationPublic],
    responses=responses(InvalidRequest),
    summary="My notifications",
)
async def list_notifications(
    user: CurrentUser,
    session: SessionDep,
    unread: Annotated[
        bool | None,
        Query(description="`true`: only unread ones; `false`: only read ones.", examples=[True]),
    ] = None,
    limit: PageLimit = 50,
    cursor: Cursor = None,
) -> schemas.Page[schemas.NotificationPublic]:
    """Any signed-in user: the caller's in-app notifications (approval requested, order
    approved, shipped, delivered...), newest first. Pass `next_cursor` back as `cursor` for
    the next page. 422: a parameter is not valid."""
    return await service.list_notifications(
        session, user, unread=unread, limit=limit, cursor=cursor
    )


@router.post(
    "/notifications/{notification_id}/read",
    response_model=schemas.NotificationPublic,
    responses=responses(NotFound),
    summary="Mark a notification read",
)
async def mark_read(
    notification_id: Annotated[
        Id, Path(description="The notification's `id`, as listed.", examples=[42])
    ],
    user: CurrentUser,
    session: SessionDep,
) -> schemas.NotificationPublic:
    """Any signed-in user, for one of its own notifications; marking it again changes
    nothing. 404: no such notification of the caller's."""
    return await service.mark_read(session, user, notification_id)


@router.post(
    "/webhooks",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.WebhookSubscriptionCreated,
    responses=responses(Forbidden, InvalidRequest),
    summary="Subscribe a URL to order events",
)
async def create_webhook(
    body: schemas.WebhookSubscriptionCreate, user: Ops, session: SessionDep, settings: SettingsDep
) -> schemas.WebhookSubscriptionCreated:
    """Ops. Each event is delivered as a POST signed with `X-Orderflow-Signature`, carrying
    an `Idempotency-Key`, retried until the receiver answers 2xx; the signing `secret` is in
    this answer only, so keep it.

    403: the caller is not ops. 422: the body is not valid, or the URL's host is, or
    resolves to, a private, loopback, link-local, unspecified or multicast address (allowed
    only where the deployment sets `WEBHOOK_ALLOW_PRIVATE_TARGETS`)."""
    return await service.create_subscription(
        session, user, body, allow_private_targets=settings.webhook_allow_private_targets
    )


@router.get(
    "/webhooks",
    response_model=schemas.Page[schemas.WebhookSubscriptionPublic],
    responses=responses(Forbidden),
    summary="Webhook subscriptions",
)
async def list_webhooks(
    _: Ops, session: SessionDep
) -> schemas.Page[schemas.WebhookSubscriptionPublic]:
    """Ops. Every subscription, switched-off ones included, without secrets. 403: the
    caller is not ops."""
    return await service.list_subscriptions(session)


@router.delete(
    "/webhooks/{subscription_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=responses(Forbidden, NotFound),
    summary="Switch a webhook subscription off",
)
async def delete_webhook(
    subscription_id: Annotated[
        Id, Path(description="The subscription's `id`, as listed.", examples=[3])
    ],
    _: Ops,
    session: SessionDep,
) -> None:
    """Ops. No more events are sent to it (204); its delivery record stays readable.
    403: the caller is not ops. 404: no such subscription."""
    await service.deactivate_subscription(session, subscription_id)


@router.get(
    "/webhooks/{subscription_id}/deliveries",
    response_model=schemas.Page[schemas.WebhookDeliveryPublic],
    responses=responses(Forbidden, NotFound, InvalidRequest),
    summary="Deliveries to a webhook subscription",
)
async def webhook_deliveries(
    subscription_id: Annotated[
        Id, Path(description="The subscription's `id`, as listed.", examples=[3])
    ],
    _: Ops,
    session: SessionDep,
    limit: PageLimit = 50,
    cursor: Cursor = None,
) -> schemas.Page[schemas.WebhookDeliveryPublic]:
    """Ops. What was sent to the subscription, newest first: event, status, attempts and
    the receiver's last error, to see why a receiver misses events. 403: the caller is not
    ops. 404: no such subscription. 422: a parameter is not valid."""
    return await service.deliveries(session, subscription_id, limit=limit, cursor=cursor)
