"""indexes for the order list's sorts and filters: created, updated and total each with the id
that breaks ties, lines by SKU, and the open review levels

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-01 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # With the total, so the throughput report reads it from the index alone.
    op.create_index(
        "ix_orders_created_at_id", "orders", ["created_at", "id"], postgresql_include=["total"]
    )
    op.create_index("ix_orders_updated_at_id", "orders", ["updated_at", "id"])
    # The same expression the list sorts by: an order without a total ranks below every total.
    op.create_index("ix_orders_total_rank", "orders", [sa.text("coalesce(total, -1)"), "id"])
    op.create_index("ix_order_lines_sku", "order_lines", ["sku"])
    op.create_index(
        "ix_review_levels_open",
        "review_levels",
        ["order_id"],
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_review_levels_open", table_name="review_levels")
    op.drop_index("ix_order_lines_sku", table_name="order_lines")
    op.drop_index("ix_orders_total_rank", table_name="orders")
    op.drop_index("ix_orders_updated_at_id", table_name="orders")
    op.drop_index("ix_orders_created_at_id", table_name="orders")
