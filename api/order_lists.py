"""The order list from PostgreSQL: filters, sorts, keyset pages, and the CSV export.

``GET /orders`` and ``GET /orders.csv`` take the same filters and sort and build their rows
here the same way, so an export holds exactly what the list pages through. Staff see every
order and whom an order under review waits on; a customer user sees only its own orders,
without how they are handled inside.

Archived orders (closed longer than ARCHIVE_AFTER ago) are left out unless ``archived`` asks
for them; the CSV export has the same default.

Sorting by ``updated_at`` or ``total`` pages through values that can change while a caller
pages: an order that changes between two pages may show twice or not at all. The export reads
everything in one statement, so it sees one moment.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import (
    Row,
    Select,
    case,
    exists,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession

from api import schemas
from api.approvals import open_level_waits_on
from api.errors import Forbidden, InvalidRequest
from api.paging import cursor_moment, decode_sorted_cursor, encode_sorted_cursor
from api.params import OrderListQuery
from api.schemas.types import MONEY_MAX
from api.visibility import Viewer
from db.models import Customer, Order, OrderLine, ReviewLevel
from domain.statuses import STATUS_LABELS, OrderStatus

# An order without a total yet (entered without prices, not yet validated) sorts below every
# total; a total is never negative.
NO_TOTAL_RANK = Decimal(-1)
# Written as the index ix_orders_total_rank has it, so that the index serves the sort.
TOTAL_RANK = func.coalesce(Order.total, literal_column("-1"))
# What one export may hold: a year of a busy customer's orders, a few megabytes of CSV.
CSV_MAX_ROWS = 50_000
CSV_FETCH_ROWS = 1_000
_NOT_OURS = "cursor is not one this API returned"
_Rows = Select[*tuple[Any, ...]]

# Columns of the export, in order; customers get no staff names or review roles.
STAFF_CSV_COLUMNS = (
    "order_no",
    "status",
    "customer_code",
    "total",
    "currency",
    "created_by",
    "created_at",
    "updated_at",
    "requested_delivery_date",
    "archived_at",
    "waiting_role",
    "escalated_to",
)
CUSTOMER_CSV_COLUMNS = tuple(
    c for c in STAFF_CSV_COLUMNS if c not in ("created_by", "waiting_role", "escalated_to")
)
# A spreadsheet runs a cell beginning with one of these as a formula (OWASP: CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _total_key(text: str) -> Decimal:
    try:
        total = Decimal(text)
    except InvalidOperation:
        raise InvalidRequest(_NOT_OURS) from None
    if not total.is_finite() or not NO_TOTAL_RANK <= total <= MONEY_MAX:
        raise InvalidRequest(_NOT_OURS)
    return total


@dataclass(frozen=True)
class _Sort:
    """One order of the list: the key (null: entry order alone), its direction, and how a
    cursor carries the key as text."""

    name: str
    key: Any  # a column or expression; None: the id alone
    descending: bool
    parse: Callable[[str], Any]


_KEYS: dict[str, tuple[Any, Callable[[str], Any]]] = {
    "created_at": (Order.created_at, cursor_moment),
    "updated_at": (Order.updated_at, cursor_moment),
    "total": (TOTAL_RANK, _total_key),
}
# Left out, the list is newest entered first, by id alone, as it always was.
_ENTRY_ORDER = _Sort("-id", None, True, str)


def _sort_of(sort: str | None) -> _Sort:
    if sort is None:
        return _ENTRY_ORDER
    key, parse = _KEYS[sort.removeprefix("-")]
    return _Sort(sort, key, sort.startswith("-"), parse)


def _open_level(role_column: Any) -> Any:
    """The open review level's ``role_column`` when the order is under review, else null."""
    return (
        select(role_column)
        .where(
            ReviewLevel.order_id == Order.id,
            ReviewLevel.status == "pending",
            Order.status == OrderStatus.UNDER_REVIEW.value,
        )
        .order_by(ReviewLevel.level)
        .limit(1)
        .scalar_subquery()
    )


def _columns(sort: _Sort) -> _Rows:
    escalated_to = case((ReviewLevel.escalated.is_(True), ReviewLevel.escalated_to), else_=None)
    return select(
        Order.id,
        Order.order_no,
        Order.status,
        Order.held_from,
        Order.customer_id,
        Customer.code.label("customer_code"),
        Order.total,
        Order.currency,
        Order.created_by,
        Order.created_at,
        Order.updated_at,
        Order.requested_delivery_date,
        Order.archived_at,
        _open_level(ReviewLevel.role).label("waiting_role"),
        _open_level(escalated_to).label("escalated_to"),
        (sort.key if sort.key is not None else literal(None)).label("sort_key"),
    ).join(Customer, Customer.id == Order.customer_id)


def _filtered(viewer: Viewer, query: OrderListQuery, sort: _Sort) -> _Rows:
    statement = _columns(sort)
    if viewer.customer_only and (query.escalated is not None or query.waiting_role is not None):
        raise Forbidden("escalated and waiting_role are about review inside: staff only")
    if viewer.customer_only:
        # A customer user tied to no customer sees nothing, never everything.
        mine = viewer.customer_id
        statement = statement.where(Order.customer_id == mine if mine is not None else false())
    if query.archived != "any":
        archived = Order.archived_at.is_not(None)
        statement = statement.where(archived if query.archived else not_(archived))
    if query.status is not None:
        statement = statement.where(Order.status == query.status.value)
    if query.customer_id is not None:
        statement = statement.where(Order.customer_id == query.customer_id)
    if query.q:
        pattern = f"%{query.q.strip()}%"
        statement = statement.where(
            or_(
                Order.order_no.ilike(pattern),
                Customer.code.ilike(pattern),
                Customer.name.ilike(pattern),
            )
        )
    if query.escalated is not None:
        escalated = exists().where(
            ReviewLevel.order_id == Order.id,
            ReviewLevel.status == "pending",
            ReviewLevel.escalated.is_(True),
        )
        statement = statement.where(escalated if query.escalated else not_(escalated))
    for column, low, high in (
        (Order.created_at, query.created_from, query.created_to),
        (Order.updated_at, query.updated_from, query.updated_to),
    ):
        if low is not None:
            statement = statement.where(column >= low)
        if high is not None:
            statement = statement.where(column < high)
    if query.sku is not None:
        statement = statement.where(
            exists().where(OrderLine.order_id == Order.id, OrderLine.sku == query.sku)
        )
    if query.min_total is not None:
        statement = statement.where(Order.total >= query.min_total)
    if query.max_total is not None:
        statement = statement.where(Order.total <= query.max_total)
    if query.waiting_role is not None:
        statement = statement.where(
            Order.status == OrderStatus.UNDER_REVIEW.value,
            exists().where(
                ReviewLevel.order_id == Order.id,
                ReviewLevel.status == "pending",
                open_level_waits_on(query.waiting_role),
            ),
        )
    return statement


def _after(statement: _Rows, sort: _Sort, key: Any, row_id: int) -> _Rows:
    """Rows after (``key``, ``row_id``) in the sort: ties on the key go by id, in the same
    direction, so a row comparison walks one index."""
    if sort.key is None:
        return statement.where(Order.id < row_id if sort.descending else Order.id > row_id)
    row, last = tuple_(sort.key, Order.id), tuple_(literal(key, sort.key.type), literal(row_id))
    return statement.where(row < last if sort.descending else row > last)


def _ordered(statement: _Rows, sort: _Sort) -> _Rows:
    keys = [Order.id] if sort.key is None else [sort.key, Order.id]
    return statement.order_by(*[k.desc() if sort.descending else k.asc() for k in keys])


def _cursor_after(sort: _Sort, row: Row[Any]) -> str:
    key = row.sort_key
    shown = None if key is None else key.isoformat() if isinstance(key, datetime) else str(key)
    return encode_sorted_cursor(sort.name, shown, row.id)


def _item(viewer: Viewer, row: Row[Any]) -> schemas.OrderListItem | schemas.CustomerOrderListItem:
    shown: dict[str, Any] = {
        "order_no": row.order_no,
        "status": row.status,
        "status_label": STATUS_LABELS[OrderStatus(row.status)],
        "held_from": row.held_from,
        "customer_id": row.customer_id,
        "customer_code": row.customer_code,
        "total": row.total,
        "currency": row.currency,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "requested_delivery_date": row.requested_delivery_date,
        "archived_at": row.archived_at,
    }
    if viewer.customer_only:
        return schemas.CustomerOrderListItem.model_validate(shown)
    return schemas.OrderListItem.model_validate(
        {
            **shown,
            "created_by": row.created_by,
            "waiting_role": row.waiting_role,
            "escalated_to": row.escalated_to,
        }
    )


async def list_orders(
    session: AsyncSession,
    viewer: Viewer,
    query: OrderListQuery,
    *,
    limit: int,
    cursor: str | None,
) -> schemas.OrderListPageView:
    """One page in the asked sort (newest entered first by default); ``next_cursor`` carries
    the sort and the last row's key, so a cursor of another sort is refused."""
    sort = _sort_of(query.sort)
    statement = _filtered(viewer, query, sort)
    if cursor:
        key_text, row_id = decode_sorted_cursor(cursor, sort.name)
        if (key_text is None) != (sort.key is None):
            raise InvalidRequest(_NOT_OURS)
        statement = _after(statement, sort, sort.parse(key_text) if key_text else None, row_id)
    rows = (await session.execute(_ordered(statement, sort).limit(limit + 1))).all()
    next_cursor = _cursor_after(sort, rows[limit - 1]) if len(rows) > limit else None
    items = [_item(viewer, row) for row in rows[:limit]]
    if viewer.customer_only:
        return schemas.Page[schemas.CustomerOrderListItem](
            data=[i for i in items if isinstance(i, schemas.CustomerOrderListItem)],
            next_cursor=next_cursor,
        )
    return schemas.Page[schemas.OrderListItem](
        data=[i for i in items if isinstance(i, schemas.OrderListItem)], next_cursor=next_cursor
    )


async def ensure_exportable(session: AsyncSession, viewer: Viewer, query: OrderListQuery) -> None:
    """Refuse (422) an export of more than :data:`CSV_MAX_ROWS` orders before anything is
    sent, rather than cut it short without a word."""
    matching = _filtered(viewer, query, _ENTRY_ORDER).with_only_columns(Order.id)
    count = await session.scalar(
        select(func.count()).select_from(matching.limit(CSV_MAX_ROWS + 1).subquery())
    )
    if (count or 0) > CSV_MAX_ROWS:
        raise InvalidRequest(
            f"more than {CSV_MAX_ROWS:,} orders match and an export holds at most that many: "
            "narrow the filters, e.g. with created_from and created_to"
        )


def _neutralised(cell: str) -> str:
    """A cell a spreadsheet would run as a formula, made plain text by a leading quote."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def _csv_line(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([_neutralised(c) for c in cells])
    return buffer.getvalue()


async def csv_lines(
    session: AsyncSession, viewer: Viewer, query: OrderListQuery
) -> AsyncIterator[str]:
    """The header, then one line per order the list shows, in its sort: each cell as the JSON
    list shows the value (money as text with two decimals, ISO-8601 times), empty for null.
    One statement read through a server-side cursor: one moment, in bounded memory."""
    columns = CUSTOMER_CSV_COLUMNS if viewer.customer_only else STAFF_CSV_COLUMNS
    yield _csv_line(list(columns))
    sort = _sort_of(query.sort)
    statement = _ordered(_filtered(viewer, query, sort), sort).limit(CSV_MAX_ROWS)
    result = await session.stream(statement.execution_options(yield_per=CSV_FETCH_ROWS))
    async for row in result:
        shown = _item(viewer, row).model_dump(mode="json")
        yield _csv_line(["" if shown[c] is None else str(shown[c]) for c in columns])
