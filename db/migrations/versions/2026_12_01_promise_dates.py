"""promise dates: order_lines.promised_date (the day each line is promised to the customer) and
promise_changes (every promise given or moved, with why, so that slips are queryable)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("order_lines", sa.Column("promised_date", sa.Date(), nullable=True))
    op.create_table(
        "promise_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("old_date", sa.Date(), nullable=True),
        sa.Column("new_date", sa.Date(), nullable=False),
        sa.Column("cause", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_promise_changes_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promise_changes")),
        sa.UniqueConstraint(
            "order_id", "line_no", "cause", name=op.f("uq_promise_changes_order_id_line_no_cause")
        ),
    )


def downgrade() -> None:
    op.drop_table("promise_changes")
    op.drop_column("order_lines", "promised_date")
