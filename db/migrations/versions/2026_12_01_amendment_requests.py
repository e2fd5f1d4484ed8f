"""amendment requests: a customer asks for an amendment of its order; sales accept it (it makes
a version) or refuse it; the customer may withdraw it while it is open

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "amendment_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "status IN ('open', 'accepted', 'refused', 'withdrawn')",
            name=op.f("ck_amendment_requests_status_known"),
        ),
        sa.CheckConstraint(
            "(status = 'accepted') = (version IS NOT NULL)",
            name=op.f("ck_amendment_requests_accepted_version"),
        ),
        sa.CheckConstraint(
            "(status = 'open') = (decided_at IS NULL)",
            name=op.f("ck_amendment_requests_decided_when_closed"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_amendment_requests_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_amendment_requests")),
    )
    # An order's requests are listed oldest first.
    op.create_index(
        "ix_amendment_requests_order_id_created_at",
        "amendment_requests",
        ["order_id", "created_at"],
    )


def downgrade() -> None:
    op.drop_table("amendment_requests")
