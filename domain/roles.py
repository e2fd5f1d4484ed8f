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
    # Manages the people who sign in and the master data; acts on no order. Reads what staff
    # read (orders, reports, stock movements, order templates and their runs) but books no
    # stock (receipts, counts), keeps no templates or their schedules (they enter orders) and
    # neither runs archiving nor reads ops' own views (audit, ledger check, archiving state):
    # whoever grants rights does not also move goods, enter orders or retire them.
    ADMIN = "admin"


APPROVER_ROLES: frozenset[Role] = frozenset(
    {Role.SUPERVISOR, Role.MANAGER, Role.DIRECTOR, Role.FINANCE, Role.OPS}
)

# Staff see every order; a customer sees only its own.
STAFF_ROLES: frozenset[Role] = frozenset(set(Role) - {Role.CUSTOMER})

# Who may create, change and deactivate customers, products, prices and production lines:
# ops keeps the rights it had, so a deployment needs no admin to fix a price.
MASTER_DATA_ROLES: frozenset[Role] = frozenset({Role.OPS, Role.ADMIN})

# Who may create users and change their roles: admin alone, so nobody who approves or ships
# orders can grant themselves or a colleague more rights.
USER_ADMIN_ROLES: frozenset[Role] = frozenset({Role.ADMIN})


def role_conflicts(roles: list[str]) -> list[str]:
    """Why this set of roles cannot be given to one person (separation of duties); empty when
    it can. An admin holds no other role, and a customer user is no staff member."""
    held = set(roles)
    problems = []
    if Role.ADMIN in held and len(held) > 1:
        problems.append("an admin holds no other role: admins manage people, not orders")
    if Role.CUSTOMER in held and len(held) > 1:
        problems.append("a customer user holds no staff role")
    return problems


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


# Approval rights an approver may lend to a colleague for a while. Ops decides only levels
# escalated to it, and its other powers are not lent with them, so it lends nothing.
LENDABLE_ROLES: frozenset[Role] = frozenset(
    {Role.SUPERVISOR, Role.MANAGER, Role.DIRECTOR, Role.FINANCE}
)


def roles_at_or_above(role: Role) -> list[Role]:
    """``role`` and every role its reviews escalate to, lowest first (supervisor → ... → ops)."""
    chain = [role]
    while chain[-1] in ESCALATES_TO and ESCALATES_TO[chain[-1]] not in chain:
        chain.append(ESCALATES_TO[chain[-1]])
    return chain


def may_stand_in_for(delegate_roles: list[str], role: Role) -> bool:
    """Whether a person holding ``delegate_roles`` may decide in ``role`` for its holder.

    Only the same role or a higher one will do: a manager may stand in for a supervisor,
    never the reverse, so a delegation never lowers who looks at an order.
    """
    return not set(roles_at_or_above(role)).isdisjoint(delegate_roles)
