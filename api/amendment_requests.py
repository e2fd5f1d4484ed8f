"""Amendment requests: the order's customer asks for an amendment; sales accept it, which sends
it to the order's workflow as an amendment of theirs, or refuse it; the customer may withdraw
it while it is open. Asking changes nothing on the order.

Accepting takes the request's row lock and keeps it while the workflow amends the order, so a
second accept (or a refusal) of the same request waits and then finds it closed: one request
makes at most one version. The amendment's reason names the request
(``amendment request #7 from acme: ...``), which is how the version it made is found, and how
an accept whose answer was lost (the API stopped between the workflow's write and its own)
finds the version already made instead of making another.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.outbox import write_notice
from activities.records import OrderRow
from api import schemas
from api.errors import Conflict, InvalidRequest, NotFound
from api.order_records import OrderRef, ensure_not_archived, order_to_act_on
from api.visibility import is_customer, own_customer
from db.audit import append_audit
from db.models import AmendmentRequest, Order, OrderVersion, User
from domain import statuses
from domain.notifications import amendment_decided_notice, amendment_requested_notice

# Open requests one order may have at once: enough for a customer who thinks of more than
# one change, few enough that a flood of requests cannot bury sales.
MAX_OPEN_REQUESTS = 5
# Statuses in which an order takes amendments, so requests for them (the workflow has the
# last word when sales accept).
AMENDABLE = tuple(status.value for status in statuses.AMENDABLE)


def amendment_reason(request_id: int, requested_by: str, reason: str, accepted: str | None) -> str:
    """The reason of the amendment an accepted request makes: it names the request."""
    said = f"; accepted: {accepted}" if accepted else ""
    return f"{_mark(request_id)}from {requested_by}: {reason}{said}"


def _mark(request_id: int) -> str:
    # The trailing space keeps request #1 from matching the reasons of #10 to #19.
    return f"amendment request #{request_id} "


def _public(
    row: AmendmentRequest, order_no: str, *, customer_view: bool
) -> schemas.AmendmentRequestPublic:
    # A customer sees who decided only when it was one of its own people (a withdrawal).
    shows_decider = not customer_view or row.status == "withdrawn"
    return schemas.AmendmentRequestPublic(
        id=row.id,
        order_no=order_no,
        status=row.status,
        requested_by=row.requested_by,
        changes=row.changes,
        requested_at=row.created_at,
        decided_by=row.decided_by if shows_decider else None,
        decided_at=row.decided_at,
        decision_reason=row.decision_reason,
        version=row.version,
    )


async def request_amendment(
    session: AsyncSession, user: User, order_no: str, body: schemas.AmendmentCreate
) -> schemas.AmendmentRequestPublic:
    """Store the customer's request and tell sales; the order stays as it is. 409 when the
    order does not take amendments now, or has too many open requests. The order's row is
    locked meanwhile, so two requests at once count each other."""
    order = await order_to_act_on(session, user, order_no, lock=True)
    ensure_not_archived(OrderRef(order.order_no, order.status, order.customer_id, order.archived))
    if order.status not in AMENDABLE:
        raise Conflict(
            f"order {order_no} is {order.status}: amendments are asked for while it is "
            f"{' or '.join(AMENDABLE)}"
        )
    still_open = await session.scalar(
        select(func.count()).where(
            AmendmentRequest.order_id == order.id, AmendmentRequest.status == "open"
        )
    )
    if (still_open or 0) >= MAX_OPEN_REQUESTS:
        raise Conflict(
            f"order {order_no} has {still_open} open amendment requests already; wait for "
            "sales to answer them, or withdraw one"
        )
    # As sent: fields left out stay out, so accepting sends exactly what was asked for.
    changes = body.model_dump(mode="json", exclude_unset=True)
    row = AmendmentRequest(
        order_id=order.id, requested_by=user.username, changes=changes, status="open"
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    notice = amendment_requested_notice(order.order_no, row.id, body.reason, order.created_by)
    await write_notice(session, notice, OrderRow(order.id, order.order_no, order.customer_id))
    await append_audit(
        session,
        kind="amendment_request",
        actor=user.username,
        order_no=order.order_no,
        payload={"request_id": row.id, "status": "open", "changes": changes},
        at=row.created_at,
    )
    await session.commit()
    return _public(row, order.order_no, customer_view=is_customer(user))


async def list_requests(
    session: AsyncSession, user: User, order_no: str
) -> list[schemas.AmendmentRequestPublic]:
    """The order's requests, oldest first; 404 for an order the caller may not see."""
    order = await order_to_act_on(session, user, order_no)
    rows = await session.scalars(
        select(AmendmentRequest)
        .where(AmendmentRequest.order_id == order.id)
        .order_by(AmendmentRequest.created_at, AmendmentRequest.id)
    )
    customer_view = is_customer(user)
    return [_public(row, order.order_no, customer_view=customer_view) for row in rows]


@dataclass
class OpenRequest:
    """An open request, its row locked until the decision is written (or refused)."""

    session: AsyncSession
    row: AmendmentRequest
    order: OrderRow

    def amendment(self, accepted: str | None) -> schemas.AmendmentCreate:
        """The amendment the request asks for, with a reason that names the request; 422 when
        what was asked can no longer be sent (a delivery date now in the past)."""
        try:
            asked = schemas.AmendmentCreate.model_validate(self.row.changes)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in error.errors()
            )
            raise InvalidRequest(
                f"amendment request #{self.row.id} can no longer be made as asked ({problems}); "
                "refuse it, and the customer may ask again"
            ) from None
        reason = amendment_reason(self.row.id, self.row.requested_by, asked.reason, accepted)
        return asked.model_copy(update={"reason": reason})

    async def version_made(self) -> int | None:
        """The order version this request's amendment made, if the workflow made it."""
        version: int | None = await self.session.scalar(
            select(OrderVersion.version)
            .where(
                OrderVersion.order_id == self.order.id,
                OrderVersion.reason.startswith(_mark(self.row.id), autoescape=True),
            )
            .order_by(OrderVersion.version.desc())
            .limit(1)
        )
        return version

    async def close(
        self, status: str, by: str, reason: str | None, *, version: int | None = None
    ) -> None:
        """Write the decision, tell the customer (unless it withdrew the request itself) and
        append it to the audit chain, in the transaction that holds the row's lock."""
        now = datetime.now(UTC)
        row = self.row
        row.status, row.decided_by, row.decided_at = status, by, now
        row.decision_reason, row.version = reason, version
        if status != "withdrawn":
            notice = amendment_decided_notice(
                self.order.order_no,
                row.id,
                accepted=status == "accepted",
                version=version,
                reason=reason,
            )
            await write_notice(self.session, notice, self.order)
        await append_audit(
            self.session,
            kind="amendment_request",
            actor=by,
            order_no=self.order.order_no,
            payload={"request_id": row.id, "status": status, "reason": reason, "version": version},
            at=now,
        )
        await self.session.flush()

    def public(self, *, customer_view: bool) -> schemas.AmendmentRequestPublic:
        return _public(self.row, self.order.order_no, customer_view=customer_view)


@asynccontextmanager
async def open_request(
    sessions: async_sessionmaker[AsyncSession], user: User, order_no: str, request_id: int
) -> AsyncIterator[OpenRequest]:
    """The open request, locked in a transaction of its own that commits when the block ends
    and rolls back if it raises (the request then stays open). 404 when the order or the
    request is not one the caller may see, 409 when the request is closed already."""
    query = (
        select(AmendmentRequest, Order.id, Order.order_no, Order.customer_id)
        .join(Order, Order.id == AmendmentRequest.order_id)
        .where(Order.order_no == order_no, AmendmentRequest.id == request_id)
        .with_for_update(of=AmendmentRequest)
    )
    if is_customer(user):
        query = query.where(own_customer(user, Order.customer_id))
    async with sessions() as session, session.begin():
        found = (await session.execute(query)).one_or_none()
        if found is None:
            raise NotFound(f"order {order_no} has no amendment request #{request_id}")
        row, order_id, found_no, customer_id = found
        if row.status != "open":
            raise Conflict(
                f"amendment request #{request_id} is {row.status} already; only an open "
                "request is accepted, refused or withdrawn"
            )
        yield OpenRequest(session, row, OrderRow(order_id, found_no, customer_id))
