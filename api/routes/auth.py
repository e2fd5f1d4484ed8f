"""Signing in and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import select

from api.deps import CurrentUser, SessionDep, SettingsDep
from api.errors import Unauthorized, responses
from api.schemas import SignInForm, Token, UserPublic
from api.security import issue_token
from db.models import User
from domain.passwords import verify_password

router = APIRouter(tags=["auth"])


@router.post("/auth/token", response_model=Token, responses=responses(Unauthorized))
async def sign_in(
    form: Annotated[SignInForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> Token:
    """OAuth2 password flow: trade a username and password for a bearer token."""
    user = (await session.scalars(select(User).where(User.username == form.username))).one_or_none()
    if user is None or not user.active or not verify_password(form.password, user.password_hash):
        raise Unauthorized("wrong username or password")
    return Token(
        access_token=issue_token(user.username, settings.jwt_secret, settings.access_token_ttl)
    )


@router.get("/me", response_model=UserPublic, responses=responses(Unauthorized))
async def me(user: CurrentUser) -> User:
    return user
