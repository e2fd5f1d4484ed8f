"""master data through the API: customers' risk, contacts and notification e-mail, the dated
price list (every existing product's price becomes its first entry), and when a user's
password was last set (tokens issued before it stop working)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "customers",
        sa.Column("risk", sa.String(length=16), server_default="normal", nullable=False),
    )
    op.add_column(
        "customers",
        sa.Column(
            "contacts",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
    )
    op.add_column("customers", sa.Column("notification_email", sa.String(length=200)))
    op.add_column("users", sa.Column("password_changed_at", sa.DateTime(timezone=True)))
    op.create_table(
        "product_prices",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("unit_price", sa.Numeric(14, 2), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("unit_price > 0", name=op.f("ck_product_prices_price_positive")),
        sa.ForeignKeyConstraint(
            ["sku"],
            ["products.sku"],
            name=op.f("fk_product_prices_sku_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("sku", "effective_from", name=op.f("pk_product_prices")),
    )
    # Today's prices have been in effect since before any order: orders already entered
    # were priced at them.
    op.execute(
        "INSERT INTO product_prices (sku, effective_from, unit_price, created_by) "
        "SELECT sku, DATE '2000-01-01', unit_price, 'migration' FROM products "
        "WHERE unit_price > 0"
    )


def downgrade() -> None:
    op.drop_table("product_prices")
    op.drop_column("users", "password_changed_at")
    op.drop_column("customers", "notification_email")
    op.drop_column("customers", "contacts")
    op.drop_column("customers", "risk")
