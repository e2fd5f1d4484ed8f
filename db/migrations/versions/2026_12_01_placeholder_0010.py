"""placeholder for revision 0010, which another part of issue 11 brings; it changes nothing.

It lets this branch's migration 0011 (stock receipts) run on its own. Delete this file when
the branch is merged after the real 0010.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 16:30:00
"""

from collections.abc import Sequence

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
