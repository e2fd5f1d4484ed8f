"""Notifications: the caller's in-app inbox, and webhook subscriptions (ops)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

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
)
async def list_notifications(
    user: CurrentUser,
    session: SessionDep,
    unread: bool | None = None,
    limit: PageLimit = 50,
    cursor: Cursor = None,
) -> schemas.Page[schemas.NotificationPublic]:
    """The caller's in-app notifications, newest first; ``unread=true`` for the unread ones."""
    return await service.list_notifications(
        session, user, unread=unread, limit=limit, cursor=cursor
    )


@router.post(
    "/notifications/{notification_id}/read",
    response_model=schemas.NotificationPublic,
    responses=responses(NotFound),
)
async def mark_read(
    notification_id: Id, user: CurrentUser, session: SessionDep
) -> schemas.NotificationPublic:
    """Mark one of the caller's notifications read; marking it again changes nothing."""
    return await service.mark_read(session, user, notification_id)


@router.post(
    "/webhooks",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.WebhookSubscriptionCreated,
    responses=responses(Forbidden, InvalidRequest),
)
async def create_webhook(
    body: schemas.WebhookSubscriptionCreate, user: Ops, session: SessionDep, settings: SettingsDep
) -> schemas.WebhookSubscriptionCreated:
    """Subscribe a URL to events. Each delivery is a signed POST carrying an Idempotency-Key;
    the signing ``secret`` is in this answer only. A URL whose host is, or resolves to, a
    private, loopback, link-local, unspecified or multicast address is refused (422) unless
    the deployment sets ``WEBHOOK_ALLOW_PRIVATE_TARGETS``."""
    return await service.create_subscription(
        session, user, body, allow_private_targets=settings.webhook_allow_private_targets
    )


@router.get(
    "/webhooks",
    response_model=schemas.Page[schemas.WebhookSubscriptionPublic],
    responses=responses(Forbidden),
)
async def list_webhooks(
    _: Ops, session: SessionDep
) -> schemas.Page[schemas.WebhookSubscriptionPublic]:
    """Every subscription, switched-off ones included, without secrets."""
    return await service.list_subscriptions(session)


@router.delete(
    "/webhooks/{subscription_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=responses(Forbidden, NotFound),
)
async def delete_webhook(subscription_id: Id, _: Ops, session: SessionDep) -> None:
    """Switch the subscription off; its delivery record stays readable."""
    await service.deactivate_subscription(session, subscription_id)


@router.get(
    "/webhooks/{subscription_id}/deliveries",
    response_model=schemas.Page[schemas.WebhookDeliveryPublic],
    responses=responses(Forbidden, NotFound, InvalidRequest),
)
async def webhook_deliveries(
    subscription_id: Id, _: Ops, session: SessionDep, limit: PageLimit = 50, cursor: Cursor = None
) -> schemas.Page[schemas.WebhookDeliveryPublic]:
    """What was sent to the subscription, newest first: status, attempts and last error."""
    return await service.deliveries(session, subscription_id, limit=limit, cursor=cursor)
