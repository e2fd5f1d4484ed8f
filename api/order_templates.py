"""Order templates: a customer's usual order kept for re-use, entered by hand (``POST /orders``
with ``template_id``) or by its Temporal Schedule (``api/template_schedules.py``).

Every change is audited in the hash chain. A template and its schedule change together: the
row is written, the schedule made or changed in Temporal, then the row committed, so a
schedule Temporal refuses (a cron spec it cannot read) leaves no template behind; deleting
deletes the schedule first, so no run is ever due for a template that is gone.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from fastapi.exceptions import RequestValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from temporalio.client import Client

from api import schemas, template_schedules
from api.errors import Conflict, InvalidRequest, NotFound
from api.paging import decode_cursor, encode_cursor
from config import Settings
from db.audit import append_audit
from db.models import Customer, OrderTemplate, OrderTemplateLine, Product, TemplateRun, User

AUDIT_KIND = "order_template"


async def _template(session: AsyncSession, template_id: int) -> OrderTemplate:
    template = (
        await session.scalars(
            select(OrderTemplate)
            .where(OrderTemplate.id == template_id)
            .options(selectinload(OrderTemplate.lines))
        )
    ).one_or_none()
    if template is None:
        raise NotFound(f"no order template {template_id}")
    return template


def public(
    template: OrderTemplate, state: schemas.ScheduleStatePublic | None = None
) -> schemas.OrderTemplatePublic:
    return schemas.OrderTemplatePublic(
        id=template.id,
        name=template.name,
        customer_id=template.customer_id,
        lines=[
            schemas.TemplateLine(sku=line.sku, quantity=line.quantity) for line in template.lines
        ],
        notes=template.notes,
        schedule=template.schedule,
        owner=template.owner,
        created_at=template.created_at,
        updated_at=template.updated_at,
        schedule_state=state,
    )


async def _check_references(session: AsyncSession, body: schemas.OrderTemplateCreate) -> None:
    """422 for a customer or product that does not exist, or a SKU given twice. Inactive
    ones are taken: a run skips while they are inactive, and says so."""
    if await session.get(Customer, body.customer_id) is None:
        raise InvalidRequest(f"customer {body.customer_id} does not exist")
    skus = [line.sku for line in body.lines]
    if len(set(skus)) != len(skus):
        raise InvalidRequest("each SKU appears on one line of a template")
    known = set(await session.scalars(select(Product.sku).where(Product.sku.in_(skus))))
    unknown = [sku for sku in skus if sku not in known]
    if unknown:
        raise InvalidRequest(f"unknown product(s): {', '.join(unknown)}")


def _fill(template: OrderTemplate, body: schemas.OrderTemplateCreate, owner: str) -> None:
    template.name = body.name
    template.customer_id = body.customer_id
    template.notes = body.notes
    template.schedule = body.schedule.model_dump(mode="json") if body.schedule else None
    template.owner = owner
    template.lines = [
        OrderTemplateLine(line_no=i, sku=line.sku, quantity=line.quantity)
        for i, line in enumerate(body.lines, start=1)
    ]


async def _audit(
    session: AsyncSession, actor: str, template_id: int, payload: dict[str, Any]
) -> None:
    await append_audit(
        session,
        kind=AUDIT_KIND,
        actor=actor,
        order_no=None,
        payload={"template_id": template_id, **payload},
        at=datetime.now(UTC),
    )


async def create_template(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    user: User,
    body: schemas.OrderTemplateCreate,
) -> schemas.OrderTemplatePublic:
    await _check_references(session, body)
    template = OrderTemplate()
    _fill(template, body, user.username)
    session.add(template)
    await session.flush()
    if template.schedule is not None:
        await template_schedules.create_schedule(
            temporal, settings, template.id, template.name, template.schedule
        )
    template_id = template.id
    # Last: the audit's turn-taking lock is then held for no call to Temporal.
    await _audit(
        session, user.username, template_id, {"action": "create", **body.model_dump(mode="json")}
    )
    try:
        await session.commit()
    except BaseException:
        with contextlib.suppress(Exception):
            await template_schedules.delete_schedule(temporal, template_id)
        raise
    return public(await _template(session, template_id))


async def update_template(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    user: User,
    template_id: int,
    body: schemas.OrderTemplateUpdate,
) -> schemas.OrderTemplatePublic:
    template = await _template(session, template_id)
    await _check_references(session, body)
    _fill(template, body, user.username)
    template.updated_at = datetime.now(UTC)
    await session.flush()
    await template_schedules.replace_schedule(
        temporal, settings, template_id, template.name, template.schedule
    )
    await _audit(
        session, user.username, template_id, {"action": "update", **body.model_dump(mode="json")}
    )
    await session.commit()
    return public(await _template(session, template_id))


async def delete_template(
    session: AsyncSession, temporal: Client, user: User, template_id: int
) -> None:
    template = await _template(session, template_id)
    await template_schedules.delete_schedule(temporal, template_id)
    await session.delete(template)
    await session.flush()
    await _audit(session, user.username, template_id, {"action": "delete", "name": template.name})
    await session.commit()


async def read_template(
    session: AsyncSession, temporal: Client, template_id: int
) -> schemas.OrderTemplatePublic:
    template = await _template(session, template_id)
    await session.close()
    state = (
        await template_schedules.schedule_state(temporal, template_id)
        if template.schedule is not None
        else None
    )
    return public(template, state)


async def list_templates(
    session: AsyncSession, customer_id: int | None, limit: int, cursor: str | None
) -> schemas.Page[schemas.OrderTemplatePublic]:
    query = (
        select(OrderTemplate)
        .options(selectinload(OrderTemplate.lines))
        .order_by(OrderTemplate.id)
        .limit(limit + 1)
    )
    if customer_id is not None:
        query = query.where(OrderTemplate.customer_id == customer_id)
    if cursor is not None:
        query = query.where(OrderTemplate.id > decode_cursor(cursor))
    rows = list(await session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return schemas.Page(
        data=[public(row) for row in rows],
        next_cursor=encode_cursor(rows[-1].id) if more and rows else None,
    )


async def act_on_schedule(
    session: AsyncSession, temporal: Client, user: User, template_id: int, action: str
) -> schemas.ScheduleStatePublic:
    """Pause, unpause or trigger the template's schedule, audited."""
    template = await _template(session, template_id)
    if template.schedule is None:
        raise Conflict(f"order template {template_id} has no schedule")
    await template_schedules.act_on_schedule(temporal, template_id, action, user.username)
    await _audit(session, user.username, template_id, {"action": action})
    await session.commit()
    return await template_schedules.schedule_state(temporal, template_id)


async def list_runs(
    session: AsyncSession, template_id: int, limit: int
) -> schemas.Page[schemas.TemplateRunPublic]:
    await _template(session, template_id)
    rows = await session.scalars(
        select(TemplateRun)
        .where(TemplateRun.template_id == template_id)
        .order_by(TemplateRun.scheduled_at.desc(), TemplateRun.id.desc())
        .limit(limit)
    )
    return schemas.Page(data=[schemas.TemplateRunPublic.model_validate(row) for row in rows])


async def resolve_entry(session: AsyncSession, body: schemas.OrderCreate) -> schemas.NewOrder:
    """What ``POST /orders`` enters: the body as given, or its template with the body's
    ``lines`` and ``requested_delivery_date`` in place of the template's."""
    if body.template_id is None:
        # Refused as the schema would a required field, naming each one missing.
        missing = [
            {"type": "missing", "loc": ("body", name), "msg": "Field required", "input": None}
            for name in ("customer_id", "lines")
            if getattr(body, name) is None
        ]
        if missing:
            raise RequestValidationError(missing)
        assert body.customer_id is not None and body.lines is not None
        return schemas.NewOrder(
            customer_id=body.customer_id,
            lines=body.lines,
            requested_delivery_date=body.requested_delivery_date,
        )
    if body.customer_id is not None:
        raise RequestValidationError(
            [
                {
                    "type": "extra_forbidden",
                    "loc": ("body", "customer_id"),
                    "msg": "leave out customer_id with template_id: the template names it",
                    "input": body.customer_id,
                }
            ]
        )
    template = (
        await session.scalars(
            select(OrderTemplate)
            .where(OrderTemplate.id == body.template_id)
            .options(selectinload(OrderTemplate.lines))
        )
    ).one_or_none()
    if template is None:
        raise InvalidRequest(f"order template {body.template_id} does not exist")
    lines = body.lines or [
        schemas.OrderLineCreate(sku=line.sku, quantity=line.quantity) for line in template.lines
    ]
    return schemas.NewOrder(
        customer_id=template.customer_id,
        lines=lines,
        requested_delivery_date=body.requested_delivery_date,
    )
