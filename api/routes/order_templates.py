"""Order templates and their schedules: thin routes over ``api/order_templates.py``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response, status

from api import order_templates, schemas
from api.deps import SessionDep, SettingsDep, TemporalDep, require_roles
from api.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    Unauthorized,
    Unavailable,
    responses,
)
from api.params import Cursor, PageLimit
from api.schemas.types import Id
from db.models import User
from domain.roles import STAFF_ROLES, Role

router = APIRouter(
    prefix="/order-templates", tags=["order templates"], responses=responses(Unauthorized)
)

# Sales keeps the templates; staff read them (their notes are internal, so customers do not);
# ops may also pause, resume and trigger a schedule, as it holds and resumes orders.
Sales = Annotated[User, Depends(require_roles(Role.SALES))]
Staff = Annotated[User, Depends(require_roles(*STAFF_ROLES))]
ScheduleKeeper = Annotated[User, Depends(require_roles(Role.SALES, Role.OPS))]

TemplateId = Annotated[
    Id, Path(description="The template's `id`, as created or listed.", examples=[7])
]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.OrderTemplatePublic,
    responses=responses(Forbidden, InvalidRequest, Unavailable),
    summary="Create an order template",
)
async def create_template(
    body: schemas.OrderTemplateCreate,
    user: Sales,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> schemas.OrderTemplatePublic:
    """Sales. A customer's usual order (lines and notes) to enter again with
    `POST /orders` and `template_id`. With a `schedule` (monthly on a day, or a cron spec),
    a Temporal Schedule `order-template-<id>` enters the order by itself on time, as the
    caller (its owner): validated and reviewed like any order. A run whose customer or
    product became inactive is skipped, with the reason in its runs and an alert.

    403: the caller is not in sales. 422: the body is not valid, the customer or a product
    does not exist, a SKU is on two lines, or Temporal refuses the schedule.
    503 with `Retry-After`: Temporal did not answer; nothing was changed."""
    return await order_templates.create_template(session, temporal, settings, user, body)


@router.get(
    "",
    response_model=schemas.Page[schemas.OrderTemplatePublic],
    responses=responses(Forbidden),
    summary="List order templates",
)
async def list_templates(
    _: Staff,
    session: SessionDep,
    customer_id: Annotated[
        Id | None, Query(description="Only this customer's templates (its `id`).", examples=[1])
    ] = None,
    limit: PageLimit = 50,
    cursor: Cursor = None,
) -> schemas.Page[schemas.OrderTemplatePublic]:
    """Staff. Templates oldest first, without their schedules' live state (read one
    template for that); pass `next_cursor` back as `cursor` for the next page. 403: a
    customer user."""
    return await order_templates.list_templates(session, customer_id, limit, cursor)


@router.get(
    "/{template_id}",
    response_model=schemas.OrderTemplatePublic,
    responses=responses(Forbidden, NotFound, Unavailable),
    summary="Read an order template and its schedule",
)
async def read_template(
    template_id: TemplateId, _: Staff, session: SessionDep, temporal: TemporalDep
) -> schemas.OrderTemplatePublic:
    """Staff. The template with, when it has a schedule, the schedule as Temporal has it
    now: paused or not, the next runs, the recent ones. 404: no such template.
    503 with `Retry-After`: Temporal did not answer; nothing was changed."""
    return await order_templates.read_template(session, temporal, template_id)


@router.put(
    "/{template_id}",
    response_model=schemas.OrderTemplatePublic,
    responses=responses(Forbidden, NotFound, InvalidRequest, Unavailable),
    summary="Change an order template",
)
async def update_template(
    template_id: TemplateId,
    body: schemas.OrderTemplateUpdate,
    user: Sales,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> schemas.OrderTemplatePublic:
    """Sales. Replaces the template with the body, schedule included: a new schedule is
    made, a changed one changed (staying paused if it was), a removed one (`null`) deleted.
    The caller becomes its owner, who enters the orders its schedule makes.

    403, 404, 422 as for creating.
    503 with `Retry-After`: Temporal did not answer; nothing was changed."""
    return await order_templates.update_template(
        session, temporal, settings, user, template_id, body
    )


@router.delete(
    "/{template_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=responses(Forbidden, NotFound, Unavailable),
    summary="Delete an order template and its schedule",
)
async def delete_template(
    template_id: TemplateId, user: Sales, session: SessionDep, temporal: TemporalDep
) -> Response:
    """Sales. Deletes the template and its schedule; orders entered from it stay as they
    are. 404: no such template.
    503 with `Retry-After`: Temporal did not answer; nothing was changed."""
    await order_templates.delete_template(session, temporal, user, template_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{template_id}/schedule/{action}",
    response_model=schemas.ScheduleStatePublic,
    responses=responses(Forbidden, NotFound, Conflict, Unavailable),
    summary="Pause, unpause or trigger a template's schedule",
)
async def act_on_schedule(
    template_id: TemplateId,
    action: Annotated[
        Literal["pause", "unpause", "trigger"],
        Path(
            description="`pause` stops its runs until `unpause`; `trigger` runs it once now "
            "(one order per trigger), beside its timetable, paused or not.",
            examples=["trigger"],
        ),
    ],
    user: ScheduleKeeper,
    session: SessionDep,
    temporal: TemporalDep,
) -> schemas.ScheduleStatePublic:
    """Sales or ops. The same as the buttons of the schedule in the Temporal UI; the answer
    is the schedule's state afterwards. 404: no such template. 409: it has no schedule.
    503 with `Retry-After`: Temporal did not answer; nothing was changed."""
    return await order_templates.act_on_schedule(session, temporal, user, template_id, action)


@router.get(
    "/{template_id}/runs",
    response_model=schemas.Page[schemas.TemplateRunPublic],
    responses=responses(Forbidden, NotFound),
    summary="A template's scheduled runs",
)
async def list_runs(
    template_id: TemplateId,
    _: Staff,
    session: SessionDep,
    limit: Annotated[
        int, Query(ge=1, le=500, description="At most this many runs, latest first.")
    ] = 100,
) -> schemas.Page[schemas.TemplateRunPublic]:
    """Staff. Each scheduled run, latest first: the order it entered, or why it was skipped
    (customer or product inactive) or failed (refused as a person's entry would be). 404: no
    such template."""
    return await order_templates.list_runs(session, template_id, limit)
