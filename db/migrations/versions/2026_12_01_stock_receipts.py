"""stock by hand: receipts and counts are movements with who booked them and why; every
product's on-hand is in the ledger from its opening stock on, so the ledger check can rebuild it

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = (
    "kind IN ('opening', 'receipt', 'count_gain', 'count_loss', 'reserve', 'release', "
    "'produce', 'ship')"
)


def upgrade() -> None:
    op.add_column("stock_movements", sa.Column("actor", sa.String(length=64), nullable=True))
    op.add_column("stock_movements", sa.Column("note", sa.String(length=500), nullable=True))
    op.create_check_constraint("kind_known", "stock_movements", KINDS)
    op.create_index("ix_stock_movements_at_id", "stock_movements", ["at", "id"])
    # The products of before: their opening stock is what their on-hand says less what the
    # ledger already explains. One that the ledger over-explains gets none, and the ledger
    # check shows it.
    op.execute(
        """
        INSERT INTO stock_movements (key, sku, kind, quantity, at, note)
        SELECT 'opening:' || p.sku, p.sku, 'opening', opening, now(), 'on hand before the ledger'
        FROM (
            SELECT p.sku, p.stock_on_hand - coalesce(sum(
                CASE m.kind WHEN 'produce' THEN m.quantity WHEN 'ship' THEN -m.quantity
                ELSE 0 END), 0) AS opening
            FROM products p LEFT JOIN stock_movements m ON m.sku = p.sku
            GROUP BY p.sku, p.stock_on_hand
        ) p
        WHERE opening > 0
        """
    )
    # Whoever creates a product with stock (the seed, an admin, a test, a script), that stock
    # is booked, so on hand is always the sum of the ledger.
    op.execute(
        """
        CREATE FUNCTION stock_book_opening() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.stock_on_hand > 0 THEN
                INSERT INTO stock_movements (key, sku, kind, quantity, at, note)
                VALUES ('opening:' || NEW.sku, NEW.sku, 'opening', NEW.stock_on_hand, now(),
                        'opening stock of a new product')
                ON CONFLICT (key) DO NOTHING;
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER products_book_opening_stock
        AFTER INSERT ON products
        FOR EACH ROW EXECUTE FUNCTION stock_book_opening()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER products_book_opening_stock ON products")
    op.execute("DROP FUNCTION stock_book_opening()")
    op.execute("DELETE FROM stock_movements WHERE kind = 'opening'")
    op.drop_index("ix_stock_movements_at_id", table_name="stock_movements")
    op.drop_constraint("ck_stock_movements_kind_known", "stock_movements", type_="check")
    op.drop_column("stock_movements", "note")
    op.drop_column("stock_movements", "actor")
