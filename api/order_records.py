"""Reading orders from PostgreSQL: who sees which order, and the whole order (the order list is
:mod:`api.order_lists`).

The whole order is read in one query: PostgreSQL gathers every section (lines, review,
production, stock, shipment, history) into JSON next to the order's own columns, and Python
only shapes it. An order detail is read after every action on the order, so it stays one
round trip however many sections the order has.

Staff read orders whole; a customer user reads the customer's view of its own orders
(:mod:`api.schemas.customer`), shaped from the same read.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from api import schemas
from api.errors import Conflict, NotFound
from api.shipment_records import line_progress, shipment_lines_filled
from api.visibility import Viewer, is_customer, own_customer
from db.models import Order, ReviewNotice, StatusHistory, User
from domain.progress import WorkOrderFacts, production_progress
from domain.statuses import STATUS_LABELS, OrderStatus


def _visible_orders(user: User) -> Select[Order]:
    """Staff see every order; a customer sees only its own, and nothing else exists for it."""
    query = select(Order)
    if is_customer(user):
        query = query.where(own_customer(user, Order.customer_id))
    return query


@dataclass(frozen=True)
class OrderRef:
    """What acting on an order needs to know of it before the workflow has its say."""

    order_no: str
    status: str
    customer_id: int
    archived: bool = False


def ensure_not_archived(order: OrderRef) -> None:
    """An archived order is read-only: every action on it answers 409, before its workflow
    (long finished) is asked."""
    if order.archived:
        raise Conflict(
            f"order {order.order_no} is archived ({order.status}): an archived order is "
            "read-only and takes no actions"
        )


async def order_ref(session: AsyncSession, user: User, order_no: str) -> OrderRef:
    """The order as ``user`` may see it, in one light read; 404 otherwise."""
    archived = Order.archived_at.is_not(None).label("archived")
    query = select(Order.order_no, Order.status, Order.customer_id, archived).where(
        Order.order_no == order_no
    )
    if is_customer(user):
        query = query.where(own_customer(user, Order.customer_id))
    row = (await session.execute(query)).one_or_none()
    if row is None:
        raise NotFound(f"order {order_no} does not exist")
    return OrderRef(row.order_no, row.status, row.customer_id, archived=bool(row.archived))


async def order_to_act_on(
    session: AsyncSession, user: User, order_no: str, *extra: Any, lock: bool = False
) -> Row[Any]:
    """The order as ``user`` may see it, for a service that acts on it: id, number, status,
    customer, creator, whether it is archived, and the ``extra`` columns; its row locked until
    the transaction ends with ``lock``. 404 otherwise."""
    query = select(
        Order.id,
        Order.order_no,
        Order.status,
        Order.customer_id,
        Order.created_by,
        Order.archived_at.is_not(None).label("archived"),
        *extra,
    ).where(Order.order_no == order_no)
    if is_customer(user):
        query = query.where(own_customer(user, Order.customer_id))
    if lock:
        query = query.with_for_update(of=Order)
    row = (await session.execute(query)).one_or_none()
    if row is None:
        raise NotFound(f"order {order_no} does not exist")
    return row


async def find_order(session: AsyncSession, user: User, order_no: str) -> Order:
    order = (
        await session.scalars(
            _visible_orders(user)
            .where(Order.order_no == order_no)
            .options(selectinload(Order.lines))
        )
    ).one_or_none()
    if order is None:
        raise NotFound(f"order {order_no} does not exist")
    return order


async def order_history(session: AsyncSession, user: User, order: Order) -> schemas.HistoryPageView:
    """Every transition of the order; a customer user sees statuses and times, and names only
    its own people."""
    query = select(StatusHistory).where(StatusHistory.order_id == order.id)
    rows = list(await session.scalars(query.order_by(StatusHistory.seq)))
    if not is_customer(user):
        return schemas.Page[schemas.HistoryPublic](
            data=[schemas.HistoryPublic.model_validate(row, from_attributes=True) for row in rows]
        )
    own_people = select(User.username).where(User.customer_id == order.customer_id)
    own = set(await session.scalars(own_people))
    return schemas.Page[schemas.CustomerTransitionPublic](
        data=[
            schemas.CustomerTransitionPublic(
                from_status=row.from_status,
                to_status=row.to_status,
                actor=row.actor if row.actor in own else None,
                at=row.at,
            )
            for row in rows
        ]
    )


async def review_notices_for(session: AsyncSession, user: User) -> list[schemas.ReviewNoticePublic]:
    rows = await session.execute(
        select(ReviewNotice, Order.order_no)
        .join(Order, Order.id == ReviewNotice.order_id)
        .where(ReviewNotice.recipient == user.username)
        .order_by(ReviewNotice.at.desc(), ReviewNotice.id.desc())
        .limit(200)
    )
    return [
        schemas.ReviewNoticePublic(
            order_no=order_no, level=notice.level, kind=notice.kind, role=notice.role, at=notice.at
        )
        for notice, order_no in rows
    ]


# ---------------------------------------------------------------------------- the whole order

# Money as text keeps its two decimals; timestamps come as ISO-8601 JSON strings.
_ORDER_DETAIL = text(
    """
SELECT
  o.order_no, o.status, o.held_from, o.customer_id, o.total::text AS total, o.currency,
  o.created_by, o.created_at, o.rejection_reasons, o.policy_version, o.policy_rule,
  o.requested_delivery_date, o.archived_at, o.version, o.notes, o.backorder_cancelled_at,
  (SELECT coalesce(json_agg(json_build_object(
            'line_no', l.line_no, 'sku', l.sku, 'quantity', l.quantity,
            'unit_price', l.unit_price::text, 'amount', l.amount::text,
            'reserved_qty', l.reserved_qty, 'produce_qty', l.produce_qty,
            'promised_date', l.promised_date)
          ORDER BY l.line_no), '[]')
     FROM order_lines l WHERE l.order_id = o.id) AS lines,
  (SELECT coalesce(json_agg(json_build_object(
            'level', r.level, 'role', r.role, 'status', r.status, 'escalated', r.escalated,
            'escalated_to', r.escalated_to, 'quorum', r.quorum, 'opened_at', r.opened_at,
            'decided_at', r.decided_at, 'opening', r.opening)
          ORDER BY r.level), '[]')
     FROM review_levels r WHERE r.order_id = o.id) AS levels,
  (SELECT coalesce(json_agg(json_build_object(
            'level', d.level, 'by', d.decided_by, 'on_behalf_of', d.on_behalf_of,
            'acting_role', d.acting_role, 'decision', d.decision, 'comment', d.comment,
            'at', d.at)
          ORDER BY d.at, d.id), '[]')
     FROM decisions d WHERE d.order_id = o.id) AS decisions,
  (SELECT coalesce(json_agg(json_build_object(
            'level', d.level, 'opening', d.opening, 'by', d.decided_by,
            'on_behalf_of', d.on_behalf_of, 'acting_role', d.acting_role,
            'decision', d.decision, 'comment', d.comment, 'at', d.at,
            'set_aside_by_version', d.set_aside_by_version)
          ORDER BY d.at, d.id), '[]')
     FROM set_aside_decisions d WHERE d.order_id = o.id) AS set_aside,
  (SELECT coalesce(json_agg(json_build_object(
            'level', n.level, 'kind', n.kind, 'round', n.round, 'role', n.role,
            'recipient', n.recipient, 'at', n.at)
          ORDER BY n.at, n.id), '[]')
     FROM review_notices n WHERE n.order_id = o.id) AS notices,
  (SELECT coalesce(json_agg(json_build_object(
            'work_order_no', w.work_order_no, 'sku', w.sku, 'quantity', w.quantity,
            'line', w.line, 'status', w.status, 'planned_start', w.planned_start,
            'planned_finish', w.planned_finish, 'finished_at', w.finished_at,
            'produced_qty', w.produced_qty, 'replan_of', w.replan_of,
            'overdue', w.overdue_at IS NOT NULL, 'cancelled_at', w.cancelled_at,
            'steps', (SELECT coalesce(json_agg(json_build_object(
                              'name', s.name, 'status', s.status, 'good_qty', s.good_qty,
                              'scrap_qty', s.scrap_qty, 'planned_start', s.planned_start,
                              'planned_finish', s.planned_finish,
                              'started_at', s.started_at, 'completed_at', s.completed_at)
                            ORDER BY s.seq), '[]')
                        FROM work_order_steps s WHERE s.work_order_id = w.id))
          ORDER BY w.seq), '[]')
     FROM work_orders w WHERE w.order_id = o.id) AS work_orders,
  (SELECT coalesce(json_agg(json_build_object(
            'work_order_no', w.work_order_no, 'step', e.step, 'event', e.event,
            'good_qty', e.good_qty, 'scrap_qty', e.scrap_qty, 'note', e.note,
            'reported_by', e.reported_by, 'at', e.at)
          ORDER BY e.at, e.id), '[]')
     FROM production_events e LEFT JOIN work_orders w ON w.id = e.work_order_id
    WHERE e.order_id = o.id) AS production_records,
  (SELECT coalesce(json_agg(json_build_object(
            'sku', m.sku, 'kind', m.kind, 'quantity', m.quantity, 'at', m.at)
          ORDER BY m.at, m.id), '[]')
     FROM stock_movements m WHERE m.order_id = o.id) AS stock_movements,
  (SELECT coalesce(json_agg(json_build_object(
            'seq', sh.seq, 'carrier', sh.carrier, 'tracking_no', sh.tracking_no,
            'status', sh.status, 'booked_at', sh.booked_at, 'shipped_at', sh.shipped_at,
            'delivered_at', sh.delivered_at, 'cancelled_at', sh.cancelled_at,
            'confirmed_at', sh.confirmed_at, 'confirmed_by', sh.confirmed_by,
            'lines', (SELECT coalesce(json_agg(json_build_object(
                              'line_no', p.line_no, 'quantity', p.quantity)
                            ORDER BY p.line_no), '[]')
                        FROM shipment_lines p WHERE p.shipment_id = sh.id),
            'events', (SELECT coalesce(json_agg(json_build_object(
                               'status', t.status, 'location', t.location,
                               'detail', t.detail, 'occurred_at', t.occurred_at)
                             ORDER BY t.occurred_at, t.id), '[]')
                         FROM shipment_events t WHERE t.shipment_id = sh.id))
          ORDER BY sh.seq), '[]')
     FROM shipments sh WHERE sh.order_id = o.id) AS shipments,
  (SELECT coalesce(json_agg(json_build_object(
            'from_status', h.from_status, 'to_status', h.to_status, 'actor', h.actor,
            'reason', h.reason, 'at', h.at,
            'by_customer', EXISTS (SELECT 1 FROM users u
                                    WHERE u.username = h.actor
                                      AND u.customer_id = o.customer_id))
          ORDER BY h.seq), '[]')
     FROM status_history h WHERE h.order_id = o.id) AS history
FROM orders o
WHERE o.order_no = :order_no
  AND (CAST(:customer_id AS integer) IS NULL OR o.customer_id = :customer_id)
"""
)


async def order_detail(session: AsyncSession, viewer: Viewer, order_no: str) -> schemas.OrderView:
    """The whole order as PostgreSQL records it, as ``viewer`` may see it: staff all of it, a
    customer user the customer's view; sections not reached yet are null."""
    if viewer.customer_only and viewer.customer_id is None:
        raise NotFound(f"order {order_no} does not exist")
    customer_id = viewer.customer_id if viewer.customer_only else None
    row = (
        (await session.execute(_ORDER_DETAIL, {"order_no": order_no, "customer_id": customer_id}))
        .mappings()
        .one_or_none()
    )
    if row is None:
        raise NotFound(f"order {order_no} does not exist")
    if viewer.customer_only:
        return _customer_view(row)
    return schemas.OrderPublic.model_validate(
        {
            **_shown_to_all(row),
            "created_by": row["created_by"],
            "rejection_reasons": row["rejection_reasons"],
            "version": row["version"],
            "notes": row["notes"],
            "review": _review_section(row),
            "production": _production_section(row["work_orders"]),
            "production_records": row["production_records"],
            "stock_movements": row["stock_movements"],
            "history": row["history"],
        }
    )


def _customer_view(row: Any) -> schemas.CustomerOrderPublic:
    """The order without how it is handled inside: no review, production, stock movements,
    reasons or staff names; the history names only the customer's own people."""
    return schemas.CustomerOrderPublic.model_validate(
        {
            **_shown_to_all(row),
            "history": [
                {**entry, "actor": entry["actor"] if entry["by_customer"] else None}
                for entry in row["history"]
            ],
        }
    )


def _shown_to_all(row: Any) -> dict[str, Any]:
    """What staff and the customer both see of the order itself."""
    return {
        "order_no": row["order_no"],
        "status": row["status"],
        "status_label": STATUS_LABELS[OrderStatus(row["status"])],
        "held_from": row["held_from"],
        "customer_id": row["customer_id"],
        "total": row["total"],
        "currency": row["currency"],
        "created_at": row["created_at"],
        "requested_delivery_date": row["requested_delivery_date"],
        "archived_at": row["archived_at"],
        **shipping_sections(row),
    }


def shipping_sections(row: Any) -> dict[str, Any]:
    """The lines with what each has ready, shipped and delivered, and the order's shipments
    (``shipment``: the latest, for clients that know one shipment per order)."""
    shipments = shipment_lines_filled(row["shipments"], row["lines"])
    lines = line_progress(
        row["lines"], row["work_orders"], shipments, row["backorder_cancelled_at"] is not None
    )
    return {
        "lines": lines,
        "shipments": shipments,
        "shipment": shipments[-1] if shipments else None,
        "partially_shipped": any(line["shipped_qty"] for line in lines)
        and any(line["state"] not in ("shipped", "delivered") for line in lines)
        and row["backorder_cancelled_at"] is None,
        "backorder_cancelled_at": row["backorder_cancelled_at"],
    }


def _review_section(row: Any) -> dict[str, Any] | None:
    levels: list[dict[str, Any]] = row["levels"]
    if not levels:
        return None
    decisions: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for decision in row["decisions"]:
        decisions[decision.pop("level")].append(decision)
    set_aside: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for decision in row["set_aside"]:
        set_aside[decision.pop("level")].append(decision)
    notices: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for notice in row["notices"]:
        notices[notice["level"]].append(notice)
    pending = [level["level"] for level in levels if level["status"] == "pending"]
    return {
        "current_level": pending[0] if pending else None,
        "policy_version": row["policy_version"],
        "policy_rule": row["policy_rule"],
        "levels": [
            {
                **level,
                "decisions": decisions[level["level"]],
                "set_aside_decisions": set_aside[level["level"]],
                "notices": _firings(notices[level["level"]]),
            }
            for level in levels
        ],
    }


def _firings(notices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per firing (kind, round, role), with everyone it was addressed to."""
    firings: dict[tuple[str, int, str], dict[str, Any]] = {}
    for notice in notices:
        key = (notice["kind"], notice["round"], notice["role"])
        if key not in firings:
            firings[key] = {
                "kind": notice["kind"],
                "round": notice["round"],
                "role": notice["role"],
                "recipients": [],
                "at": notice["at"],
            }
        firings[key]["recipients"].append(notice["recipient"])
    return list(firings.values())


def _production_section(work_orders: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first work order's number, line and steps, the progress of all, and every one."""
    if not work_orders:
        return None
    progress = production_progress(
        WorkOrderFacts(
            [step["status"] for step in wo["steps"]],
            _moment(wo["planned_finish"]),
            _moment(wo["finished_at"]),
            cancelled=wo["status"] == "cancelled",
        )
        for wo in work_orders
    )
    first = work_orders[0]
    return {
        "work_order_no": first["work_order_no"],
        "line": first["line"],
        "status": first["status"],
        "steps": first["steps"],
        "progress": vars(progress),
        "work_orders": work_orders,
    }


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
