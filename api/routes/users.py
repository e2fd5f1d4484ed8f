"""Users: created, listed and changed by an admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from api import users as service
from api.deps import SessionDep, require_roles
from api.errors import Conflict, Forbidden, InvalidRequest, NotFound, Unauthorized, responses
from api.schemas import Page, UserAccountPublic
from api.schemas.master_data import CODE_PATTERN, UserCreate, UserUpdate
from db.models import User
from domain.roles import USER_ADMIN_ROLES

router = APIRouter(tags=["users"], responses=responses(Unauthorized, Forbidden))

Admin = Annotated[User, Depends(require_roles(*sorted(USER_ADMIN_ROLES)))]
UsernamePath = Annotated[
    str,
    Path(
        pattern=CODE_PATTERN,
        max_length=64,
        description="The user's sign-in name.",
        examples=["sales2"],
    ),
]


@router.get("/users", response_model=Page[UserAccountPublic], summary="List users")
async def list_users(_: Admin, session: SessionDep) -> Page[UserAccountPublic]:
    """Admin. Every user, active or not, with roles and the customer a customer user acts
    for; never a password. 403 for anyone else."""
    return Page(data=await service.users(session))


@router.post(
    "/users",
    status_code=201,
    response_model=UserAccountPublic,
    responses=responses(InvalidRequest, Conflict),
    summary="Create a user",
)
async def create_user(body: UserCreate, admin: Admin, session: SessionDep) -> UserAccountPublic:
    """Admin. A user with roles and a first password (at least 10 characters, 4 different
    ones, not containing the username). An admin holds no other role; a `customer` user
    names its `customer_id`. Audited. 409: the username is taken; 422: a weak password,
    roles that cannot go together, an unknown customer."""
    return await service.create_user(session, admin, body)


@router.patch(
    "/users/{username}",
    response_model=UserAccountPublic,
    responses=responses(InvalidRequest, Conflict, NotFound),
    summary="Change, deactivate or reset the password of a user",
)
async def update_user(
    username: UsernamePath, body: UserUpdate, admin: Admin, session: SessionDep
) -> UserAccountPublic:
    """Admin. Only the fields sent change: `roles` replaces the roles, `password` resets the
    password, `active: false` deactivates (sign-in is refused and the user's tokens stop
    working at once; `active: true` lets it back). Audited, without the password. 404: no
    such user; 409: an admin changing its own roles or deactivating itself; 422: as on
    create."""
    return await service.update_user(session, admin, username, body)
