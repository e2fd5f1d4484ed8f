"""The approval policy: which review levels an order needs, decided by its total."""

from __future__ import annotations

from decimal import Decimal

from domain.roles import Role

# Default policy, amounts in CNY: each threshold adds one level on top of the previous ones.
LEVEL_THRESHOLDS: tuple[tuple[Decimal, Role], ...] = (
    (Decimal("0"), Role.SUPERVISOR),
    (Decimal("10000"), Role.MANAGER),
    (Decimal("100000"), Role.DIRECTOR),
)


def review_levels_for_total(total: Decimal) -> list[Role]:
    """Ordered roles that must approve an order of this total, lowest first."""
    return [role for threshold, role in LEVEL_THRESHOLDS if total >= threshold]
