"""Amendments: the request an amendment sends the order's workflow, and the versions an order
went through, as ``order_versions`` holds them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from activities.amendments import LineChange, NewLine
from api import schemas
from api.services import actor_of
from db.models import Order, OrderVersion, User
from workflows.messages import AmendmentChanges, AmendmentRequest


def amendment_request(user: User, body: schemas.AmendmentCreate) -> AmendmentRequest:
    asked = body.model_fields_set
    return AmendmentRequest(
        actor=actor_of(user),
        reason=body.reason,
        changes=AmendmentChanges(
            change_lines=[
                LineChange(
                    change.line_no,
                    change.quantity,
                    str(change.unit_price) if change.unit_price is not None else None,
                )
                for change in body.change_lines
            ],
            remove_lines=list(body.remove_lines),
            add_lines=[
                NewLine(
                    line.sku,
                    line.quantity,
                    str(line.unit_price) if line.unit_price is not None else None,
                )
                for line in body.add_lines
            ],
            requested_delivery_date=(
                body.requested_delivery_date.isoformat() if body.requested_delivery_date else None
            ),
            set_requested_delivery_date="requested_delivery_date" in asked,
            notes=body.notes,
            set_notes="notes" in asked,
        ),
    )


async def versions(session: AsyncSession, order_no: str) -> list[schemas.OrderVersionPublic]:
    """Version 1, the order as entered, then one per amendment, oldest first."""
    order = (await session.scalars(select(Order).where(Order.order_no == order_no))).one()
    amended = await session.scalars(
        select(OrderVersion).where(OrderVersion.order_id == order.id).order_by(OrderVersion.version)
    )
    rows = list(amended)
    entered = schemas.OrderVersionPublic(
        version=1,
        amended_by=None,
        reason=None,
        at=order.created_at,
        total=rows[0].total_before if rows else order.total,
        changes=[],
        review=None,
    )
    return [
        entered,
        *(
            schemas.OrderVersionPublic(
                version=row.version,
                amended_by=row.amended_by,
                reason=row.reason,
                at=row.at,
                total=row.total_after,
                changes=[schemas.FieldChangePublic(**change) for change in row.changes],
                review=row.review,
            )
            for row in rows
        ),
    ]
