"""The order book now, for the analytics overview: orders and value per status, the orders
waiting longest and on whom, escalated reviews, held orders (an expired review, a system
fault) and alerts still open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api.analytics import LIFECYCLE, LIST_LIMIT, money
from api.schemas.analytics import OrderRef, OverviewPublic, StatusCount, WaitingOrder
from domain.actors import CARRIER
from domain.feedback import POOR_FEEDBACK_ALERT
from domain.statuses import STATUS_LABELS, TERMINAL, OrderStatus
from domain.waiting import waiting_on

OLDEST_WAITING_LIMIT = 10
SYSTEM_FAULT = "system fault"
# The hold reason of a review whose clocks ran out (see the order workflow's review).
REVIEW_EXPIRED = "review expired"


# Every query below keeps to one customer's orders when :customer_id is given.
_OF_CUSTOMER = "(CAST(:customer_id AS bigint) IS NULL OR o.customer_id = :customer_id)"


async def overview(
    session: AsyncSession, poor_feedback_open_for: timedelta, customer_id: int | None = None
) -> OverviewPublic:
    """The whole order book, or one customer's (``customer_id``): its orders, and the alerts
    its orders raised; a poor rating's alert counts as open for ``poor_feedback_open_for``
    (FEEDBACK_WINDOW) after it was raised."""
    of = {"customer_id": customer_id}
    statuses = await session.execute(
        text(
            f"""
SELECT s.status, coalesce(o.count, 0) AS count, coalesce(o.value, 0) AS value
FROM unnest(CAST(:statuses AS text[])) WITH ORDINALITY AS s(status, position)
LEFT JOIN (SELECT status, count(*) AS count, sum(total) AS value
           FROM orders o WHERE {_OF_CUSTOMER} GROUP BY status) AS o ON o.status = s.status
ORDER BY s.position
"""
        ),
        {"statuses": [status.value for status in LIFECYCLE], **of},
    )
    waiting = await session.execute(_OLDEST_WAITING, {"limit": OLDEST_WAITING_LIMIT, **of})
    held = [row for row in await session.execute(_HELD, {"limit": LIST_LIMIT, **of})]
    escalated = await session.execute(_ESCALATED, {"limit": LIST_LIMIT, **of})
    open_alerts = await session.scalar(
        _OPEN_ALERTS,
        {
            "poor_feedback": POOR_FEEDBACK_ALERT,
            "poor_feedback_since": datetime.now(UTC) - poor_feedback_open_for,
            **of,
        },
    )
    return OverviewPublic(
        statuses=[
            StatusCount(
                status=row.status,
                label=STATUS_LABELS[OrderStatus(row.status)],
                count=row.count,
                value=money(row.value),
            )
            for row in statuses
        ],
        oldest_waiting=[
            WaitingOrder(
                order_no=row.order_no,
                status=row.status,
                customer_code=row.customer_code,
                waiting_on=waiting_on(
                    OrderStatus(row.status),
                    level=row.level,
                    level_count=row.level_count,
                    role=row.role,
                    escalated_to=row.escalated_to,
                    carrier_hold=row.actor == CARRIER,
                    fault=(row.reason or "").startswith(SYSTEM_FAULT),
                ),
                since=row.since,
            )
            for row in waiting
        ],
        escalated=[_ref(row) for row in escalated],
        expired=[_ref(row) for row in held if row.reason == REVIEW_EXPIRED],
        on_hold=[_ref(row) for row in held],
        system_faults=[_ref(row) for row in held if (row.reason or "").startswith(SYSTEM_FAULT)],
        open_alerts=open_alerts or 0,
    )


def _ref(row: Any) -> OrderRef:
    return OrderRef(
        order_no=row.order_no,
        status=row.status,
        customer_code=row.customer_code,
        since=row.since,
        reason=row.reason,
    )


_CLOSED = ", ".join(f"'{status.value}'" for status in sorted(TERMINAL))

# The stay each open order is in now (the partial index ``ix_status_history_current``).
_OLDEST_WAITING = text(
    f"""
SELECT o.order_no, h.to_status AS status, c.code AS customer_code, h.at AS since, h.actor,
       h.reason,
       r.level, r.role, CASE WHEN r.escalated THEN r.escalated_to END AS escalated_to,
       (SELECT count(*) FROM review_levels a WHERE a.order_id = o.id) AS level_count
FROM status_history h
JOIN orders o ON o.id = h.order_id
JOIN customers c ON c.id = o.customer_id
LEFT JOIN LATERAL (
  SELECT level, role, escalated, escalated_to FROM review_levels
  WHERE order_id = o.id AND status = 'pending' ORDER BY level LIMIT 1
) AS r ON h.to_status = 'UNDER_REVIEW'
WHERE h.left_at IS NULL AND h.to_status NOT IN ({_CLOSED}) AND {_OF_CUSTOMER}
ORDER BY h.at, o.order_no
LIMIT :limit
"""
)

_HELD = text(
    f"""
SELECT o.order_no, o.status, c.code AS customer_code, h.at AS since, h.reason
FROM orders o
JOIN customers c ON c.id = o.customer_id
JOIN LATERAL (
  SELECT at, reason FROM status_history
  WHERE order_id = o.id ORDER BY seq DESC LIMIT 1
) AS h ON true
WHERE o.status = 'ON_HOLD' AND {_OF_CUSTOMER}
ORDER BY h.at, o.order_no
LIMIT :limit
"""
)

# Orders under review whose open level was escalated, since its escalation.
_ESCALATED = text(
    f"""
SELECT o.order_no, o.status, c.code AS customer_code,
       coalesce(e.at, r.opened_at) AS since,
       'level ' || r.level || ' (' || r.role || ') escalated to ' || r.escalated_to AS reason
FROM orders o
JOIN customers c ON c.id = o.customer_id
JOIN review_levels r ON r.order_id = o.id AND r.status = 'pending' AND r.escalated
LEFT JOIN LATERAL (
  SELECT min(n.at) AS at FROM review_notices n
  WHERE n.order_id = o.id AND n.level = r.level AND n.kind = 'escalation'
) AS e ON true
WHERE o.status = 'UNDER_REVIEW' AND {_OF_CUSTOMER}
ORDER BY since, o.order_no
LIMIT :limit
"""
)

# Alerts still worth a look: a product's current dip below its reorder point, a poor rating
# (its order is COMPLETED, yet someone should follow it up; nothing marks that done, so it
# counts for a while: FEEDBACK_WINDOW after it was raised, archived or not), or a fault or
# delay of an order not yet closed. For one customer: those its orders raised.
_OPEN_ALERTS = text(
    f"""
SELECT count(*) FROM alerts a
WHERE (CAST(:customer_id AS bigint) IS NULL
       OR EXISTS (SELECT 1 FROM orders o WHERE o.id = a.order_id AND {_OF_CUSTOMER}))
  AND CASE WHEN a.sku IS NOT NULL
           THEN EXISTS (SELECT 1 FROM products p WHERE p.sku = a.sku
                          AND p.low_stock_since IS NOT NULL AND a.at >= p.low_stock_since)
           WHEN a.kind = :poor_feedback THEN a.at >= :poor_feedback_since
           ELSE EXISTS (SELECT 1 FROM orders o WHERE o.id = a.order_id
                          AND o.status NOT IN ({_CLOSED}))
      END
"""
)
