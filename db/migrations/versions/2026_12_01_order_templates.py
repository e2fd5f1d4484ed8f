"""order templates, their lines, and the record of each scheduled run

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_templates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column(
            "customer_id",
            sa.Integer(),
            sa.ForeignKey("customers.id", name="fk_order_templates_customer_id_customers"),
            nullable=False,
        ),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("schedule", JSONB(), nullable=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_order_templates"),
    )
    op.create_index("ix_order_templates_customer_id", "order_templates", ["customer_id"])
    op.create_table(
        "order_template_lines",
        sa.Column(
            "template_id",
            sa.Integer(),
            sa.ForeignKey(
                "order_templates.id",
                name="fk_order_template_lines_template_id_order_templates",
                ondelete="CASCADE",
            ),
            nullable=False,
        ),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column(
            "sku",
            sa.String(64),
            sa.ForeignKey("products.sku", name="fk_order_template_lines_sku_products"),
            nullable=False,
        ),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("template_id", "line_no", name="pk_order_template_lines"),
    )
    op.create_table(
        "template_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "template_id",
            sa.Integer(),
            sa.ForeignKey(
                "order_templates.id",
                name="fk_template_runs_template_id_order_templates",
                ondelete="CASCADE",
            ),
            nullable=False,
        ),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("order_no", sa.String(32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_template_runs"),
        sa.UniqueConstraint(
            "template_id", "scheduled_at", name="uq_template_runs_template_id_scheduled_at"
        ),
    )
    op.create_index("ix_template_runs_template_id", "template_runs", ["template_id"])


def downgrade() -> None:
    op.drop_table("template_runs")
    op.drop_table("order_template_lines")
    op.drop_table("order_templates")
