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


# The stay an open order is in now; the overview's query repeats this condition word for word.
CURRENT_STAY = "left_at IS NULL AND to_status NOT IN ('CANCELLED', 'COMPLETED', 'REJECTED')"


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
    op.add_column(
        "status_history",
        sa.Column(
            "stay_seconds",
            sa.Double(),
            sa.Computed("extract(epoch FROM left_at - at)", persisted=True),
            nullable=True,
        ),
    )
    op.create_index(
        "ix_status_history_at_stay",
        "status_history",
        ["at"],
        postgresql_include=["to_status", "stay_seconds", "order_id"],
    )
    op.create_index(
        "ix_status_history_current",
        "status_history",
        ["at"],
        postgresql_where=sa.text(CURRENT_STAY),
        postgresql_include=["order_id", "to_status"],
    )
    op.create_index(
        "ix_shipments_delivered_at", "shipments", ["delivered_at"], postgresql_include=["order_id"]
    )
    op.create_index(
        "ix_review_levels_opened_at",
        "review_levels",
        ["opened_at"],
        postgresql_include=["order_id", "level", "role", "status", "escalated", "decided_at"],
    )
    op.create_index(
        "ix_decisions_at",
        "decisions",
        ["at"],
        postgresql_include=["order_id", "level", "decided_by", "on_behalf_of"],
    )
    op.create_index(
        "ix_review_notices_at",
        "review_notices",
        ["at"],
        postgresql_include=["order_id", "level", "kind", "round"],
    )
    op.create_index(
        "ix_work_orders_created_at",
        "work_orders",
        ["created_at"],
        postgresql_include=["order_id", "line", "status", "finished_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_work_orders_created_at", "work_orders")
    op.drop_index("ix_review_notices_at", "review_notices")
    op.drop_index("ix_decisions_at", "decisions")
    op.drop_index("ix_review_levels_opened_at", "review_levels")
    op.drop_index("ix_shipments_delivered_at", "shipments")
    op.drop_index("ix_status_history_current", "status_history")
    op.drop_index("ix_status_history_at_stay", "status_history")
    op.drop_column("status_history", "stay_seconds")
    op.drop_column("status_history", "left_at")
    op.drop_column("orders", "requested_delivery_date")
