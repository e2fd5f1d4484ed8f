"""people in the loop: approval policies, delegations, notifications, audit log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 12:00:00

Review notices get a round number, as reminders now repeat; earlier notices are round 1.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def _band(name: str, low: str | None, below: str | None, roles: list[str]) -> dict[str, object]:
    return {
        "name": name,
        "when": {"total_min": low, "total_below": below},
        "levels": [{"role": role, "quorum": 1} for role in roles],
    }


DEFAULT_RULES = [
    _band("below 10,000", None, "10000", ["supervisor"]),
    _band("10,000 to 99,999.99", "10000", "100000", ["supervisor", "manager"]),
    _band("100,000 and more", "100000", None, ["supervisor", "manager", "director"]),
]


def upgrade() -> None:
    op.add_column(
        "products",
        sa.Column("category", sa.String(length=64), server_default="general", nullable=False),
    )
    op.add_column("users", sa.Column("email", sa.String(length=200), nullable=True))
    op.add_column("orders", sa.Column("policy_version", sa.Integer(), nullable=True))
    op.add_column("orders", sa.Column("policy_rule", sa.String(length=100), nullable=True))
    op.add_column(
        "review_levels", sa.Column("quorum", sa.Integer(), server_default="1", nullable=False)
    )
    for clock in ("remind_every", "escalate_after", "expire_after"):
        op.add_column("review_levels", sa.Column(clock, sa.Float(), nullable=True))
    op.add_column("decisions", sa.Column("on_behalf_of", sa.String(length=64), nullable=True))
    op.add_column(
        "review_notices", sa.Column("round", sa.Integer(), server_default="1", nullable=False)
    )
    op.drop_constraint(
        op.f("uq_review_notices_order_id_level_kind_recipient"), "review_notices", type_="unique"
    )
    op.create_unique_constraint(
        op.f("uq_review_notices_order_id_level_kind_round_recipient"),
        "review_notices",
        ["order_id", "level", "kind", "round", "recipient"],
    )

    op.create_table(
        "approval_policies",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("rules", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_approval_policies")),
    )
    # Version 1 is the design's default: each amount band adds one level up the ladder; the
    # clocks are the deployment's (REMIND_AFTER, ESCALATE_AFTER).
    policies = sa.table(
        "approval_policies",
        sa.column("version", sa.Integer()),
        sa.column("rules", postgresql.JSONB()),
        sa.column("created_by", sa.String()),
    )
    op.bulk_insert(policies, [{"version": 1, "rules": DEFAULT_RULES, "created_by": "system"}])
    op.create_table(
        "delegations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delegator", sa.String(length=64), nullable=False),
        sa.Column("delegate", sa.String(length=64), nullable=False),
        sa.Column("starts_at", TZ, nullable=False),
        sa.Column("ends_at", TZ, nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("revoked_at", TZ, nullable=True),
        sa.Column("created_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_delegations_period_not_empty")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delegations")),
    )
    op.create_index(op.f("ix_delegations_delegate"), "delegations", ["delegate"], unique=False)
    op.create_index(op.f("ix_delegations_delegator"), "delegations", ["delegator"], unique=False)
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("events", postgresql.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.String(length=64), nullable=True),
        sa.Column("target", sa.String(length=500), nullable=True),
        sa.Column("subscription_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.Column("sent_at", TZ, nullable=True),
        sa.Column("read_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_notifications_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscriptions.id"],
            name=op.f("fk_notifications_subscription_id_webhook_subscriptions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("key", name=op.f("uq_notifications_key")),
    )
    op.create_index(op.f("ix_notifications_event"), "notifications", ["event"], unique=False)
    op.create_index(
        op.f("ix_notifications_recipient"), "notifications", ["recipient"], unique=False
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("order_no", sa.String(length=32), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_log_hash")),
    )
    op.create_index(op.f("ix_audit_log_kind"), "audit_log", ["kind"], unique=False)
    op.create_index(op.f("ix_audit_log_order_no"), "audit_log", ["order_no"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_log_order_no"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_kind"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index(op.f("ix_notifications_recipient"), table_name="notifications")
    op.drop_index(op.f("ix_notifications_event"), table_name="notifications")
    op.drop_table("notifications")
    op.drop_table("webhook_subscriptions")
    op.drop_index(op.f("ix_delegations_delegator"), table_name="delegations")
    op.drop_index(op.f("ix_delegations_delegate"), table_name="delegations")
    op.drop_table("delegations")
    op.drop_table("approval_policies")
    op.drop_constraint(
        op.f("uq_review_notices_order_id_level_kind_round_recipient"),
        "review_notices",
        type_="unique",
    )
    op.execute("DELETE FROM review_notices WHERE round > 1")
    op.create_unique_constraint(
        op.f("uq_review_notices_order_id_level_kind_recipient"),
        "review_notices",
        ["order_id", "level", "kind", "recipient"],
    )
    op.drop_column("review_notices", "round")
    op.drop_column("decisions", "on_behalf_of")
    for clock in ("remind_every", "escalate_after", "expire_after"):
        op.drop_column("review_levels", clock)
    op.drop_column("review_levels", "quorum")
    op.drop_column("orders", "policy_rule")
    op.drop_column("orders", "policy_version")
    op.drop_column("users", "email")
    op.drop_column("products", "category")
