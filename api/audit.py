"""The audit log for ops: read it page by page, and recompute its hash chain."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api import schemas
from api.paging import decode_cursor, encode_cursor
from db.audit import GENESIS_HASH, entry_hash
from db.models import AuditEntry

# Rows read per query while verifying, so memory stays flat however long the log grows.
VERIFY_BATCH = 500


async def list_audit(
    session: AsyncSession,
    *,
    order_no: str | None,
    kind: str | None,
    limit: int,
    cursor: str | None,
) -> schemas.Page[schemas.AuditEntryPublic]:
    """Newest first, like the order list; the cursor is the last row seen."""
    query = select(AuditEntry)
    if order_no is not None:
        query = query.where(AuditEntry.order_no == order_no)
    if kind is not None:
        query = query.where(AuditEntry.kind == kind)
    if cursor:
        query = query.where(AuditEntry.id < decode_cursor(cursor))
    rows = list(await session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit + 1)))
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return schemas.Page(
        data=[schemas.AuditEntryPublic.model_validate(row) for row in rows[:limit]],
        next_cursor=next_cursor,
    )


async def verify_chain(
    session: AsyncSession, *, batch_size: int = VERIFY_BATCH
) -> schemas.AuditVerification:
    """Recompute every row's hash in id order and stop at the first row that does not match.

    A row whose content was changed fails its own hash; a row deleted, or rewritten together
    with its hash, shows up as the next row no longer linking to the row before it. Rows
    appended while this runs extend the chain at its end, so they are checked too.
    """
    columns = (
        AuditEntry.id,
        AuditEntry.at,
        AuditEntry.actor,
        AuditEntry.kind,
        AuditEntry.order_no,
        AuditEntry.payload,
        AuditEntry.prev_hash,
        AuditEntry.hash,
    )
    checked = 0
    previous_id: int | None = None
    previous_hash = GENESIS_HASH
    while True:
        query = select(*columns).order_by(AuditEntry.id).limit(batch_size)
        if previous_id is not None:
            query = query.where(AuditEntry.id > previous_id)
        rows = (await session.execute(query)).all()
        for row in rows:
            checked += 1
            if row.prev_hash != previous_hash:
                if previous_id is None:
                    detail = (
                        f"row {row.id} comes first but does not start the chain: "
                        "rows before it were deleted"
                    )
                else:
                    detail = (
                        f"row {row.id} does not link to row {previous_id} before it: "
                        "a row between them was deleted, or one was rewritten with its hash"
                    )
                return _broken(checked, row.id, detail)
            recomputed = entry_hash(
                row.prev_hash, row.at, row.actor, row.kind, row.order_no, row.payload
            )
            if recomputed != row.hash:
                detail = f"row {row.id} was altered: its content no longer matches its hash"
                return _broken(checked, row.id, detail)
            previous_id, previous_hash = row.id, row.hash
        if len(rows) < batch_size:
            break
    return schemas.AuditVerification(
        ok=True,
        rows_checked=checked,
        first_bad_id=None,
        detail=f"all {checked} rows are intact and linked in order",
    )


def _broken(checked: int, row_id: int, detail: str) -> schemas.AuditVerification:
    return schemas.AuditVerification(
        ok=False, rows_checked=checked, first_bad_id=row_id, detail=detail
    )
