"""Who sees what: staff see every order and customer; a customer user only its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, false, select

from api.errors import Forbidden
from db.models import Customer, User
from domain.roles import Role


def is_customer(user: User) -> bool:
    """Decided by the role alone: a customer user tied to no customer sees nothing, never
    everything."""
    return Role.CUSTOMER.value in user.roles


@dataclass(frozen=True)
class Viewer:
    """What reading an order needs to know of the caller, taken while the user row is
    loaded (a rolled-back transaction expires it)."""

    customer_only: bool
    customer_id: int | None


def viewer_of(user: User) -> Viewer:
    return Viewer(customer_only=is_customer(user), customer_id=user.customer_id)


def own_customer(user: User, column: Any) -> ColumnElement[bool]:
    return column == user.customer_id if user.customer_id is not None else false()


def reference_customers(user: User) -> Select[Customer]:
    query = select(Customer).order_by(Customer.code)
    if is_customer(user):
        query = query.where(own_customer(user, Customer.id))
    return query


def ensure_may_confirm_receipt(user: User, order_customer_id: int) -> None:
    """Receipt is confirmed by the order's own customer, or by sales on its behalf."""
    if is_customer(user) and user.customer_id is not None and order_customer_id == user.customer_id:
        return
    if Role.SALES.value not in user.roles:
        raise Forbidden("only the order's customer or sales may confirm receipt")
