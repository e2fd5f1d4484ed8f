"""The roles people act in, and who may do what to an order."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    SALES = "sales"
    SUPERVISOR = "supervisor"
    MANAGER = "manager"
    DIRECTOR = "director"
    FINANCE = "finance"
    PRODUCTION = "production"
    LOGISTICS = "logistics"
    CUSTOMER = "customer"
    OPS = "ops"


APPROVER_ROLES: frozenset[Role] = frozenset(
    {Role.SUPERVISOR, Role.MANAGER, Role.DIRECTOR, Role.FINANCE, Role.OPS}
)

# Staff see every order; a customer sees only its own.
STAFF_ROLES: frozenset[Role] = frozenset(set(Role) - {Role.CUSTOMER})

# Who takes over a review level that waited past escalate_after.
ESCALATES_TO: dict[Role, Role] = {
    Role.SUPERVISOR: Role.MANAGER,
    Role.MANAGER: Role.DIRECTOR,
    Role.DIRECTOR: Role.OPS,
    Role.FINANCE: Role.DIRECTOR,
}


def escalation_target(role: Role) -> Role:
    """The next role up; ops is the top and escalates to itself."""
    return ESCALATES_TO.get(role, Role.OPS)
