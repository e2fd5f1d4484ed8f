"""per-line fulfilment: an order may have several shipments (``shipments.seq`` numbers them per
order), each with the quantities of the lines it carries (``shipment_lines``) and its own
receipt confirmation; ``orders.backorder_cancelled_at`` marks an order whose unshipped rest was
cancelled after a partial shipment.

A worker of release 1.0 still running during the upgrade keeps working: it books one shipment
per order without a ``seq`` (the default, 1, is right for it) and without lines (a shipment
without lines carries the whole order), and reads its order's shipment by ``order_id``, which
finds the one it booked.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("shipments", sa.Column("seq", sa.Integer(), server_default="1", nullable=False))
    op.add_column("shipments", sa.Column("confirmed_at", TZ, nullable=True))
    op.add_column("shipments", sa.Column("confirmed_by", sa.String(length=64), nullable=True))
    op.drop_constraint(op.f("uq_shipments_order_id"), "shipments", type_="unique")
    op.create_unique_constraint(op.f("uq_shipments_order_id_seq"), "shipments", ["order_id", "seq"])
    op.create_table(
        "shipment_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_shipment_lines_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_shipment_lines_shipment_id_shipments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment_lines")),
        sa.UniqueConstraint(
            "shipment_id", "line_no", name=op.f("uq_shipment_lines_shipment_id_line_no")
        ),
    )
    op.add_column("orders", sa.Column("backorder_cancelled_at", TZ, nullable=True))


def downgrade() -> None:
    op.drop_column("orders", "backorder_cancelled_at")
    op.drop_table("shipment_lines")
    op.drop_constraint(op.f("uq_shipments_order_id_seq"), "shipments", type_="unique")
    op.create_unique_constraint(op.f("uq_shipments_order_id"), "shipments", ["order_id"])
    op.drop_column("shipments", "confirmed_by")
    op.drop_column("shipments", "confirmed_at")
    op.drop_column("shipments", "seq")
