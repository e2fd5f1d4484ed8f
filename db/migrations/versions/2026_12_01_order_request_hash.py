"""orders remember what their entry asked for, so an Idempotency-Key reused for another order
is refused

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SHA-256 of the entry's canonical JSON; null for orders entered before it was kept.
    op.add_column("orders", sa.Column("request_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("orders", "request_hash")
