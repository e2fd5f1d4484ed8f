"""fulfilment: stock, routings with standard times, production lines, alerts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 10:00:00

Existing products keep their routing as steps of ten minutes per unit; existing work orders
stay on LINE-1, which this revision creates.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    # ---- stock on products
    op.add_column(
        "products", sa.Column("stock_reserved", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column(
        "products", sa.Column("reorder_point", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column("products", sa.Column("low_stock_since", TZ, nullable=True))
    op.add_column(
        "products",
        sa.Column(
            "line_codes",
            postgresql.ARRAY(sa.String(length=32)),
            server_default="{}",
            nullable=False,
        ),
    )
    op.create_check_constraint("on_hand_not_negative", "products", "stock_on_hand >= 0")
    op.create_check_constraint("reserved_not_negative", "products", "stock_reserved >= 0")
    op.create_check_constraint(
        "reserved_within_on_hand", "products", "stock_reserved <= stock_on_hand"
    )

    # ---- routings become steps with a standard time
    op.create_table(
        "routing_steps",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("minutes_per_unit", sa.Numeric(precision=8, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["sku"],
            ["products.sku"],
            name=op.f("fk_routing_steps_sku_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("sku", "seq", name=op.f("pk_routing_steps")),
    )
    op.execute(
        "INSERT INTO routing_steps (sku, seq, name, minutes_per_unit) "
        "SELECT p.sku, s.seq, s.name, 10 "
        "FROM products p, unnest(p.routing) WITH ORDINALITY AS s(name, seq)"
    )
    op.drop_column("products", "routing")

    # ---- production lines; existing work orders ran on LINE-1
    op.create_table(
        "production_lines",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("units_per_hour", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_production_lines")),
    )
    op.execute(
        "INSERT INTO production_lines (code, name, units_per_hour, active) "
        "VALUES ('LINE-1', 'Assembly line 1', 60, true)"
    )

    # ---- order lines: what stock covered and what production makes
    op.add_column(
        "order_lines", sa.Column("reserved_qty", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column(
        "order_lines", sa.Column("produce_qty", sa.Integer(), server_default="0", nullable=False)
    )

    # ---- work orders: one per product and re-plan, booked on a line
    op.drop_constraint(op.f("uq_work_orders_order_id"), "work_orders", type_="unique")
    op.create_index(op.f("ix_work_orders_order_id"), "work_orders", ["order_id"], unique=False)
    op.create_index(op.f("ix_work_orders_line"), "work_orders", ["line"], unique=False)
    op.add_column("work_orders", sa.Column("seq", sa.Integer(), server_default="1", nullable=False))
    op.add_column("work_orders", sa.Column("sku", sa.String(length=64), nullable=True))
    op.create_foreign_key(
        op.f("fk_work_orders_sku_products"), "work_orders", "products", ["sku"], ["sku"]
    )
    op.add_column(
        "work_orders", sa.Column("quantity", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column("work_orders", sa.Column("planned_start", TZ, nullable=True))
    op.add_column("work_orders", sa.Column("planned_finish", TZ, nullable=True))
    op.add_column("work_orders", sa.Column("finished_at", TZ, nullable=True))
    op.add_column(
        "work_orders", sa.Column("produced_qty", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column("work_orders", sa.Column("replan_of", sa.String(length=32), nullable=True))
    op.add_column("work_orders", sa.Column("overdue_at", TZ, nullable=True))
    op.add_column("work_orders", sa.Column("cancelled_at", TZ, nullable=True))
    op.create_unique_constraint(
        op.f("uq_work_orders_order_id_seq"), "work_orders", ["order_id", "seq"]
    )
    op.add_column("work_order_steps", sa.Column("planned_start", TZ, nullable=True))
    op.add_column("work_order_steps", sa.Column("planned_finish", TZ, nullable=True))
    op.add_column("production_events", sa.Column("work_order_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_production_events_work_order_id_work_orders"),
        "production_events",
        "work_orders",
        ["work_order_id"],
        ["id"],
        ondelete="CASCADE",
    )

    # ---- logistics
    op.add_column("shipments", sa.Column("cancelled_at", TZ, nullable=True))
    op.add_column("shipment_events", sa.Column("detail", sa.String(length=500), nullable=True))

    # ---- stock movements and alerts
    op.create_table(
        "stock_movements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_stock_movements_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_stock_movements_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sku"], ["products.sku"], name=op.f("fk_stock_movements_sku_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_movements")),
        sa.UniqueConstraint("key", name=op.f("uq_stock_movements_key")),
    )
    op.create_index(
        op.f("ix_stock_movements_order_id"), "stock_movements", ["order_id"], unique=False
    )
    op.create_index(op.f("ix_stock_movements_sku"), "stock_movements", ["sku"], unique=False)
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_alerts_order_id_orders"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["sku"], ["products.sku"], name=op.f("fk_alerts_sku_products")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("key", name=op.f("uq_alerts_key")),
    )
    op.create_index(op.f("ix_alerts_kind"), "alerts", ["kind"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_alerts_kind"), table_name="alerts")
    op.drop_table("alerts")
    op.drop_index(op.f("ix_stock_movements_sku"), table_name="stock_movements")
    op.drop_index(op.f("ix_stock_movements_order_id"), table_name="stock_movements")
    op.drop_table("stock_movements")
    op.drop_column("shipment_events", "detail")
    op.drop_column("shipments", "cancelled_at")
    op.drop_constraint(
        op.f("fk_production_events_work_order_id_work_orders"),
        "production_events",
        type_="foreignkey",
    )
    op.drop_column("production_events", "work_order_id")
    op.drop_column("work_order_steps", "planned_finish")
    op.drop_column("work_order_steps", "planned_start")
    op.drop_constraint(op.f("uq_work_orders_order_id_seq"), "work_orders", type_="unique")
    op.drop_constraint(op.f("fk_work_orders_sku_products"), "work_orders", type_="foreignkey")
    for column in (
        "cancelled_at",
        "overdue_at",
        "replan_of",
        "produced_qty",
        "finished_at",
        "planned_finish",
        "planned_start",
        "quantity",
        "sku",
        "seq",
    ):
        op.drop_column("work_orders", column)
    op.drop_index(op.f("ix_work_orders_line"), table_name="work_orders")
    op.drop_index(op.f("ix_work_orders_order_id"), table_name="work_orders")
    op.create_unique_constraint(op.f("uq_work_orders_order_id"), "work_orders", ["order_id"])
    op.drop_column("order_lines", "produce_qty")
    op.drop_column("order_lines", "reserved_qty")
    op.drop_table("production_lines")
    op.add_column(
        "products",
        sa.Column(
            "routing",
            postgresql.ARRAY(sa.String(length=64)),
            server_default="{}",
            nullable=False,
        ),
    )
    op.execute(
        "UPDATE products p SET routing = COALESCE("
        "(SELECT array_agg(r.name ORDER BY r.seq) FROM routing_steps r WHERE r.sku = p.sku), "
        "'{}')"
    )
    op.drop_table("routing_steps")
    op.drop_constraint("reserved_within_on_hand", "products", type_="check")
    op.drop_constraint("reserved_not_negative", "products", type_="check")
    op.drop_constraint("on_hand_not_negative", "products", type_="check")
    op.drop_column("products", "line_codes")
    op.drop_column("products", "low_stock_since")
    op.drop_column("products", "reorder_point")
    op.drop_column("products", "stock_reserved")
