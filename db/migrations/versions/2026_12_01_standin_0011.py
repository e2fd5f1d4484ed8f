"""STAND-IN, delete at merge: an empty 0011 so that this branch's 0012 (order templates) chains
onto 0009 while the real 0010 and 0011 live on other branches of issue 11.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-01 16:30:00
"""

from collections.abc import Sequence

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
