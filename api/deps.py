"""Request dependencies: the database session, the Temporal client and the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.errors import Forbidden, Unauthorized
from api.security import subject_and_issue_time
from config import Settings
from db.models import User
from domain.roles import Role

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


# Dependencies are coroutines even where they await nothing: FastAPI runs a plain function
# dependency in a thread pool, a hand-off every request would pay for.


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session per request; the service that writes commits, anything else rolls back."""
    async with request.app.state.sessions() as session:
        yield session


async def get_temporal(request: Request) -> Client:
    client: Client = request.app.state.temporal
    return client


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
TemporalDep = Annotated[Client, Depends(get_temporal)]


async def user_from_token(token: str | None, session: AsyncSession, settings: Settings) -> User:
    if not token:
        raise Unauthorized("sign in first: send a bearer token from POST /api/v1/auth/token")
    found = subject_and_issue_time(token, settings.jwt_secret)
    user = None
    if found is not None:
        username, issued_at = found
        user = (await session.scalars(select(User).where(User.username == username))).one_or_none()
    if user is None or not user.active or not token_outlives_password(user, issued_at):
        raise Unauthorized("the bearer token is invalid or expired; sign in again")
    return user


def token_outlives_password(user: User, issued_at: datetime | None) -> bool:
    """Whether a token issued at ``issued_at`` still holds: one issued before the user's
    password was last set does not (a reset ends every session). Tokens count whole seconds,
    so one issued in the second of the reset still holds."""
    changed = user.password_changed_at
    if changed is None:
        return True
    return issued_at is not None and issued_at >= changed.replace(microsecond=0)


async def get_current_user(
    session: SessionDep, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    return await user_from_token(token, session, settings)


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_roles(*roles: Role) -> Callable[..., Coroutine[Any, Any, User]]:
    """A dependency that lets through only callers holding one of ``roles``."""
    allowed = {role.value for role in roles}

    async def check(user: CurrentUser) -> User:
        if not allowed.intersection(user.roles):
            raise Forbidden(f"this needs one of the roles: {', '.join(sorted(allowed))}")
        return user

    return check
