"""audit log append-only: the database refuses UPDATE, DELETE and TRUNCATE of audit_log

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 18:00:00

The application only ever inserts audit rows. A statement-level trigger makes anything else
fail, whoever sends it; a DBA can still ``ALTER TABLE audit_log DISABLE TRIGGER
audit_log_append_only``, and the hash chain is what exposes a row changed that way.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION audit_log_refuse_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'audit rows are never changed or removed; append a new row instead';
        END;
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER audit_log_append_only
        BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
    op.execute("DROP FUNCTION audit_log_refuse_change()")
