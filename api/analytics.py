"""Analytics over PostgreSQL: stage durations and the bottleneck, throughput, approval
turnaround, on-time delivery and the order book now. Every figure is computed by PostgreSQL
(window-free: each stay is one ``status_history`` row, whose ``left_at`` the next transition
writes); Python only fills the answer shapes.

Definitions (also in the README):

* a **stay** is the time from the transition into a status to the transition out of it. A
  report counts the stays that *began* in its period; only finished stays enter the figures,
  the unfinished ones are counted as ``open``. Terminal statuses have no stays;
* the **bottleneck** is the stage, other than ON_HOLD, with the largest total finished time;
  its ``share`` is that total over the total of every stage (ON_HOLD included);
* a review level's **turnaround** runs from the level opening (becoming the one waiting for
  decisions) to its decision; a level counts in the period it opened in, a decision in the
  period it was taken in;
* a delivery is **on time** when the carrier's delivery falls on or before the requested day
  (days in UTC); deliveries count in the period they happened in. It is **on time to
  promise** when it falls on or before the latest promised date of the lines it carries (the
  promise the order finally held, after any move); orders approved before promises existed
  have none and stay out of that rate. Each shipment's delivery counts: an order shipped in
  parts is several deliveries, each measured against the lines it carries (a shipment of
  release 1.0 carries every line).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.report_period import Period
from api.schemas.analytics import (
    ApprovalsPublic,
    ApproverTurnaround,
    Bottleneck,
    DeliveryPublic,
    DurationStats,
    LateDelivery,
    LevelTurnaround,
    ProductionLineDuration,
    ReviewLevelDuration,
    StageDuration,
    StageDurationsPublic,
    ThroughputBucket,
    ThroughputPublic,
)
from domain.statuses import STATUS_LABELS, OrderStatus

S = OrderStatus
# Statuses an order stays in, in lifecycle order; ON_HOLD last, outside the flow.
STAGES: tuple[OrderStatus, ...] = (
    S.CREATED,
    S.UNDER_REVIEW,
    S.APPROVED,
    S.IN_PRODUCTION,
    S.AWAITING_SHIPMENT,
    S.SHIPPED,
    S.DELIVERED,
    S.ON_HOLD,
)
LIFECYCLE: tuple[OrderStatus, ...] = (*STAGES[:-1], S.COMPLETED, S.REJECTED, S.CANCELLED, S.ON_HOLD)
# Lists in the answers stop here; the counts beside them are complete.
LIST_LIMIT = 100


def _stats(row: Any) -> dict[str, Any]:
    return DurationStats(
        count=row.count,
        mean_seconds=row.mean,
        p50_seconds=row.percentiles[0] if row.percentiles else None,
        p90_seconds=row.percentiles[1] if row.percentiles else None,
        max_seconds=row.max,
    ).model_dump()


_NO_STATS: dict[str, Any] = {
    "count": 0,
    "mean_seconds": None,
    "p50_seconds": None,
    "p90_seconds": None,
    "max_seconds": None,
}

# Duration statistics over ``seconds`` (nulls, the unfinished, are ignored by each aggregate);
# both percentiles from one sort. Sums and means are rounded to the microsecond: a float sum
# depends on the order rows come in, and the same history must give the same figures.
_STATS = """
  count(seconds) AS count,
  round(avg(seconds)::numeric, 6)::float AS mean,
  percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY seconds) AS percentiles,
  max(seconds)::float AS max
"""

# With a customer, its orders are looked up first (few rows), then their history by order.
_OF_CUSTOMER = "AND {alias}.order_id IN (SELECT id FROM orders WHERE customer_id = :customer_id)"


def _customer_filter(alias: str, customer_id: int | None) -> str:
    return "" if customer_id is None else _OF_CUSTOMER.format(alias=alias)


async def stage_durations(
    sessions: async_sessionmaker[AsyncSession], period: Period, customer_id: int | None
) -> StageDurationsPublic:
    """The three reads are independent, so each runs on a connection of its own and
    PostgreSQL works on them side by side: the answer takes as long as the slowest."""
    params = {**period.params(), "customer_id": customer_id}
    stays, levels, lines = await asyncio.gather(
        _read(sessions, _STAYS.format(of_customer=_customer_filter("h", customer_id)), params),
        _read(sessions, _LEVELS.format(of_customer=_customer_filter("r", customer_id)), params),
        _read(sessions, _LINES.format(of_customer=_customer_filter("w", customer_id)), params),
    )
    by_status = {row.status: row for row in stays}
    stages = []
    for status in STAGES:
        row = by_status.get(status.value)
        figures: dict[str, Any] = (
            {**_stats(row), "open": row.open, "total_seconds": row.total}
            if row is not None
            else {**_NO_STATS, "open": 0, "total_seconds": 0.0}
        )
        stages.append(StageDuration(status=status.value, label=STATUS_LABELS[status], **figures))
    return StageDurationsPublic(
        from_=period.start,
        to=period.end,
        customer_id=customer_id,
        stages=stages,
        bottleneck=_bottleneck(stages),
        review_levels=[
            ReviewLevelDuration(level=row.level, role=row.role, **_stats(row)) for row in levels
        ],
        production_lines=[ProductionLineDuration(line=row.line, **_stats(row)) for row in lines],
    )


async def _read(
    sessions: async_sessionmaker[AsyncSession], sql: str, params: dict[str, Any]
) -> list[Row[Any]]:
    async with sessions() as session:
        return list(await session.execute(text(sql), params))


_STAYS = f"""
SELECT h.to_status AS status, {_STATS},
       count(*) - count(seconds) AS open,
       round(coalesce(sum(seconds), 0)::numeric, 6)::float AS total
FROM (SELECT to_status, stay_seconds AS seconds, order_id, at FROM status_history) AS h
WHERE h.at >= :start AND h.at < :end {{of_customer}}
GROUP BY h.to_status
"""

_LEVELS = f"""
SELECT r.level, r.role, {_STATS}
FROM review_levels r,
     LATERAL (SELECT extract(epoch FROM r.decided_at - r.opened_at)::float AS seconds) AS s
WHERE r.opened_at >= :start AND r.opened_at < :end
  AND r.status IN ('approved', 'rejected') {{of_customer}}
GROUP BY r.level, r.role
ORDER BY r.level, r.role
"""

_LINES = f"""
SELECT w.line, {_STATS}
FROM work_orders w,
     LATERAL (SELECT extract(epoch FROM w.finished_at - w.created_at)::float AS seconds) AS s
WHERE w.created_at >= :start AND w.created_at < :end
  AND w.status = 'completed' {{of_customer}}
GROUP BY w.line
ORDER BY w.line
"""


def _bottleneck(stages: list[StageDuration]) -> Bottleneck | None:
    """The stage in the flow (not ON_HOLD) with the largest total finished time."""
    total = sum(stage.total_seconds for stage in stages)
    in_flow = [stage for stage in stages if stage.status != S.ON_HOLD and stage.total_seconds > 0]
    if total <= 0 or not in_flow:
        return None
    worst = max(in_flow, key=lambda stage: stage.total_seconds)
    return Bottleneck(
        status=worst.status, mean_seconds=worst.mean_seconds, share=worst.total_seconds / total
    )


async def throughput(
    session: AsyncSession, period: Period, bucket: Literal["day", "week"]
) -> ThroughputPublic:
    rows = await session.execute(
        text(
            """
WITH buckets AS (
  SELECT generate_series(
           date_trunc(:bucket, :start AT TIME ZONE 'UTC'),
           :end AT TIME ZONE 'UTC' - interval '1 microsecond',
           CAST(:step AS interval)) AS start
), entered AS (
  SELECT date_trunc(:bucket, o.created_at AT TIME ZONE 'UTC') AS start,
         count(*) AS created, coalesce(sum(o.total), 0) AS created_value
  FROM orders o
  WHERE o.created_at >= :start AND o.created_at < :end
  GROUP BY 1
), closed AS (
  SELECT date_trunc(:bucket, h.at AT TIME ZONE 'UTC') AS start,
         count(*) FILTER (WHERE h.to_status = 'COMPLETED') AS completed,
         count(*) FILTER (WHERE h.to_status = 'REJECTED') AS rejected,
         count(*) FILTER (WHERE h.to_status = 'CANCELLED') AS cancelled,
         coalesce(sum(o.total) FILTER (WHERE h.to_status = 'COMPLETED'), 0) AS completed_value
  FROM status_history h JOIN orders o ON o.id = h.order_id
  WHERE h.at >= :start AND h.at < :end
    AND h.to_status IN ('COMPLETED', 'REJECTED', 'CANCELLED')
  GROUP BY 1
)
SELECT b.start::date AS start,
       coalesce(e.created, 0) AS created, coalesce(c.completed, 0) AS completed,
       coalesce(c.rejected, 0) AS rejected, coalesce(c.cancelled, 0) AS cancelled,
       coalesce(e.created_value, 0) AS created_value,
       coalesce(c.completed_value, 0) AS completed_value
FROM buckets b
LEFT JOIN entered e ON e.start = b.start
LEFT JOIN closed c ON c.start = b.start
ORDER BY b.start
"""
        ),
        {**period.params(), "bucket": bucket, "step": f"1 {bucket}"},
    )
    return ThroughputPublic(
        from_=period.start,
        to=period.end,
        bucket=bucket,
        data=[
            ThroughputBucket(
                start=row.start,
                created=row.created,
                completed=row.completed,
                rejected=row.rejected,
                cancelled=row.cancelled,
                created_value=money(row.created_value),
                completed_value=money(row.completed_value),
            )
            for row in rows
        ],
    )


def money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


async def approvals(sessions: async_sessionmaker[AsyncSession], period: Period) -> ApprovalsPublic:
    """Its three reads run side by side, each on a connection of its own."""
    params = period.params()
    levels, approvers, delegated_rows = await asyncio.gather(
        _read(sessions, _LEVEL_TURNAROUND, params),
        _read(sessions, _APPROVER_TURNAROUND, params),
        _read(sessions, _DELEGATED, params),
    )
    delegated = delegated_rows[0]
    level_rows = [
        LevelTurnaround(
            level=row.level,
            role=row.role,
            decided=row.decided,
            mean_seconds=row.mean,
            p50_seconds=row.percentiles[0] if row.percentiles else None,
            p90_seconds=row.percentiles[1] if row.percentiles else None,
            escalated=row.escalated,
            expired=row.expired,
            reminders=row.reminders,
        )
        for row in levels
    ]
    return ApprovalsPublic(
        from_=period.start,
        to=period.end,
        levels=level_rows,
        approvers=[
            ApproverTurnaround(
                username=row.username,
                decisions=row.decisions,
                mean_seconds=row.mean,
                p50_seconds=row.p50,
            )
            for row in approvers
        ],
        escalations=sum(level.escalated for level in level_rows),
        expiries=sum(level.expired for level in level_rows),
        reminders=sum(level.reminders for level in level_rows),
        delegated_share=(
            delegated.delegated / delegated.decisions if delegated.decisions else None
        ),
    )


_LEVEL_TURNAROUND = """
WITH opened AS (
  SELECT r.order_id, r.level, r.role, r.escalated,
         CASE WHEN r.status IN ('approved', 'rejected')
              THEN extract(epoch FROM r.decided_at - r.opened_at)::float END AS seconds
  FROM review_levels r
  WHERE r.opened_at >= :start AND r.opened_at < :end
), fired AS (
  SELECT n.order_id, n.level,
         count(DISTINCT n.round) FILTER (WHERE n.kind = 'reminder') AS reminders,
         bool_or(n.kind = 'expiry') AS expired
  FROM review_notices n JOIN opened USING (order_id, level)
  -- A level's notices come after it opened: the index on their time narrows the search.
  WHERE n.at >= :start
  GROUP BY n.order_id, n.level
)
SELECT o.level, o.role, count(o.seconds) AS decided,
       avg(o.seconds)::float AS mean,
       percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY o.seconds) AS percentiles,
       count(*) FILTER (WHERE o.escalated) AS escalated,
       count(*) FILTER (WHERE f.expired) AS expired,
       coalesce(sum(f.reminders), 0)::int AS reminders
FROM opened o LEFT JOIN fired f USING (order_id, level)
GROUP BY o.level, o.role
ORDER BY o.level, o.role
"""

_APPROVER_TURNAROUND = """
SELECT d.decided_by AS username, count(*) AS decisions,
       avg(s.seconds)::float AS mean,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY s.seconds) AS p50
FROM decisions d
JOIN review_levels r ON r.order_id = d.order_id AND r.level = d.level,
     LATERAL (SELECT extract(epoch FROM d.at - r.opened_at)::float AS seconds) AS s
WHERE d.at >= :start AND d.at < :end
GROUP BY d.decided_by
ORDER BY count(*) DESC, d.decided_by
"""

_DELEGATED = """
SELECT count(*) AS decisions, count(*) FILTER (WHERE on_behalf_of IS NOT NULL) AS delegated
FROM decisions WHERE at >= :start AND at < :end
"""


async def delivery(
    session: AsyncSession, period: Period, customer_id: int | None = None
) -> DeliveryPublic:
    params = {**period.params(), "customer_id": customer_id, "limit": LIST_LIMIT}
    of_customer = "" if customer_id is None else "AND o.customer_id = :customer_id"
    counts = (
        await session.execute(
            text(
                f"""
SELECT count(o.requested_delivery_date) AS delivered,
       count(*) FILTER (WHERE (s.delivered_at AT TIME ZONE 'UTC')::date
                              <= o.requested_delivery_date) AS on_time,
       count(*) FILTER (WHERE o.requested_delivery_date IS NULL) AS without_requested_date,
       count(p.promised) AS with_promise,
       count(*) FILTER (WHERE (s.delivered_at AT TIME ZONE 'UTC')::date
                              <= p.promised) AS on_time_to_promise
FROM shipments s JOIN orders o ON o.id = s.order_id
CROSS JOIN LATERAL (SELECT max(l.promised_date) AS promised
                      FROM order_lines l
                     WHERE l.order_id = o.id
                       AND (l.line_no IN (SELECT c.line_no FROM shipment_lines c
                                           WHERE c.shipment_id = s.id)
                            OR NOT EXISTS (SELECT 1 FROM shipment_lines c
                                            WHERE c.shipment_id = s.id))) p
WHERE s.delivered_at >= :start AND s.delivered_at < :end {of_customer}
"""
            ),
            params,
        )
    ).one()
    late = await session.execute(
        text(
            f"""
SELECT o.order_no, c.code AS customer_code, o.requested_delivery_date, s.delivered_at,
       (s.delivered_at AT TIME ZONE 'UTC')::date - o.requested_delivery_date AS days_late
FROM shipments s
JOIN orders o ON o.id = s.order_id
JOIN customers c ON c.id = o.customer_id
WHERE s.delivered_at >= :start AND s.delivered_at < :end
  AND (s.delivered_at AT TIME ZONE 'UTC')::date > o.requested_delivery_date {of_customer}
ORDER BY days_late DESC, s.delivered_at, o.order_no
LIMIT :limit
"""
        ),
        params,
    )
    return DeliveryPublic(
        from_=period.start,
        to=period.end,
        delivered=counts.delivered,
        on_time=counts.on_time,
        on_time_rate=counts.on_time / counts.delivered if counts.delivered else None,
        without_requested_date=counts.without_requested_date,
        with_promise=counts.with_promise,
        on_time_to_promise=counts.on_time_to_promise,
        on_time_to_promise_rate=(
            counts.on_time_to_promise / counts.with_promise if counts.with_promise else None
        ),
        late=[LateDelivery.model_validate(row, from_attributes=True) for row in late],
    )
