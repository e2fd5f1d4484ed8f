"""order amendments: orders.notes and orders.version, order_versions (one row per version with
its field-level diff), the opening of a review level (a level an amendment re-opened is decided
again, by the same people if they like) and set_aside_decisions, where the decisions of an
opening go when an amendment re-opens its level. The decisions table keeps its unique key, so
a worker of release 1.0 still running during the upgrade writes decisions as before.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("notes", sa.Text(), nullable=True))
    op.add_column("orders", sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    op.create_table(
        "order_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("amended_by", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("total_before", sa.Numeric(14, 2), nullable=True),
        sa.Column("total_after", sa.Numeric(14, 2), nullable=True),
        sa.Column("review", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("fulfilment", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_versions_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_versions")),
        sa.UniqueConstraint("order_id", "version", name=op.f("uq_order_versions_order_id_version")),
    )
    op.add_column(
        "review_levels",
        sa.Column("opening", sa.Integer(), server_default="1", nullable=False),
    )
    op.create_table(
        "set_aside_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("opening", sa.Integer(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("on_behalf_of", sa.String(length=64), nullable=True),
        sa.Column("acting_role", sa.String(length=32), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("set_aside_by_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_set_aside_decisions_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_set_aside_decisions")),
    )
    op.create_index(op.f("ix_set_aside_decisions_order_id"), "set_aside_decisions", ["order_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_set_aside_decisions_order_id"), table_name="set_aside_decisions")
    op.drop_table("set_aside_decisions")
    op.drop_column("review_levels", "opening")
    op.drop_table("order_versions")
    op.drop_column("orders", "version")
    op.drop_column("orders", "notes")
