"""archiving: orders.archived_at, the indexes the archive run and the default lists use, and
archive_runs, one row per finished run

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CLOSED = "status IN ('COMPLETED', 'REJECTED', 'CANCELLED')"


def upgrade() -> None:
    op.add_column("orders", sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_orders_archivable",
        "orders",
        ["id"],
        postgresql_where=sa.text(f"archived_at IS NULL AND {_CLOSED}"),
    )
    op.create_index(
        "ix_orders_archived_at",
        "orders",
        ["archived_at"],
        postgresql_where=sa.text("archived_at IS NOT NULL"),
    )
    op.create_table(
        "archive_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archive_after_seconds", sa.Double(), nullable=False),
        sa.Column("archived", sa.Integer(), nullable=False),
        sa.Column("more_left", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_runs")),
        sa.UniqueConstraint("run_id", name=op.f("uq_archive_runs_run_id")),
    )


def downgrade() -> None:
    op.drop_table("archive_runs")
    op.drop_index("ix_orders_archived_at", table_name="orders")
    op.drop_index("ix_orders_archivable", table_name="orders")
    op.drop_column("orders", "archived_at")
