"""orders carry the delivery date the customer asked for; each status-history row knows when
the order left that status; indexes that keep the analytics fast over many orders

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("requested_delivery_date", sa.Date(), nullable=True))
    op.add_column("status_history", sa.Column("left_at", sa.DateTime(timezone=True), nullable=True))
    # Stays already recorded end where the order's next transition begins.
    op.execute(
        """
        UPDATE status_history AS h SET left_at = n.next_at
        FROM (
            SELECT id, lead(at) OVER (PARTITION BY order_id ORDER BY seq) AS next_at
            FROM status_history
        ) AS n
        WHERE n.id = h.id AND n.next_at IS NOT NULL
        """
    )
    op.create_index(
        "ix_status_history_at_stay",
        "status_history",
        ["at"],
        postgresql_include=["to_status", "left_at", "order_id"],
    )
    op.create_index(
        "ix_status_history_current",
        "status_history",
        ["at"],
        postgresql_where=sa.text("left_at IS NULL"),
        postgresql_include=["order_id", "to_status"],
    )
    op.create_index("ix_orders_created_at", "orders", ["created_at"])
    op.create_index("ix_shipments_delivered_at", "shipments", ["delivered_at"])
    op.create_index("ix_review_levels_opened_at", "review_levels", ["opened_at"])
    op.create_index("ix_decisions_at", "decisions", ["at"])
    op.create_index("ix_review_notices_at", "review_notices", ["at"])
    op.create_index("ix_work_orders_finished_at", "work_orders", ["finished_at"])


def downgrade() -> None:
    op.drop_index("ix_work_orders_finished_at", "work_orders")
    op.drop_index("ix_review_notices_at", "review_notices")
    op.drop_index("ix_decisions_at", "decisions")
    op.drop_index("ix_review_levels_opened_at", "review_levels")
    op.drop_index("ix_shipments_delivered_at", "shipments")
    op.drop_index("ix_orders_created_at", "orders")
    op.drop_index("ix_status_history_current", "status_history")
    op.drop_index("ix_status_history_at_stay", "status_history")
    op.drop_column("status_history", "left_at")
    op.drop_column("orders", "requested_delivery_date")
