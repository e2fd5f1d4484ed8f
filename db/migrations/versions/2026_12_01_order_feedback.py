"""customer feedback: one rating (1 to 5) and comment per completed order

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 16:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("given_by", sa.String(length=64), nullable=False),
        sa.Column(
            "given_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_order_feedback_rating_range")),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_feedback_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_order_feedback_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_feedback")),
        sa.UniqueConstraint("order_id", name=op.f("uq_order_feedback_order_id")),
    )
    # The analytics read a period of feedback, for everyone or for one customer.
    op.create_index("ix_order_feedback_given_at", "order_feedback", ["given_at"])
    op.create_index(
        "ix_order_feedback_customer_id_given_at", "order_feedback", ["customer_id", "given_at"]
    )


def downgrade() -> None:
    op.drop_table("order_feedback")
