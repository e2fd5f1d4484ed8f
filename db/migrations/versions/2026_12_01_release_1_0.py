"""release 1.0: a reminder limit per review level, and indexes for what the order detail and
the notification delivery read

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Null: the deployment's REMINDER_LIMIT.
    op.add_column("review_levels", sa.Column("reminder_limit", sa.Integer(), nullable=True))
    op.create_index("ix_production_events_order_id", "production_events", ["order_id"])
    op.create_index("ix_alerts_order_id", "alerts", ["order_id"])
    # The delivery workflows look for pending e-mails and webhooks, oldest first.
    op.create_index(
        "ix_notifications_pending",
        "notifications",
        ["channel", "id"],
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_pending", table_name="notifications")
    op.drop_index("ix_alerts_order_id", table_name="alerts")
    op.drop_index("ix_production_events_order_id", table_name="production_events")
    op.drop_column("review_levels", "reminder_limit")
