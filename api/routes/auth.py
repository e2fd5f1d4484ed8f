"""Signing in and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from api import sign_in as sign_in_service
from api.deps import CurrentUser, SessionDep, SettingsDep
from api.errors import TooManyRequests, Unauthorized, responses
from api.schemas import SignInForm, Token, UserPublic
from api.security import issue_token
from db.models import User

router = APIRouter(tags=["auth"])


@router.post(
    "/auth/token", response_model=Token, responses=responses(Unauthorized, TooManyRequests)
)
async def sign_in(
    form: Annotated[SignInForm, Depends()],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> Token:
    """OAuth2 password flow: trade a username and password for a bearer token. Too many
    failures for one username or from one address answer 429 with ``Retry-After``
    (``LOGIN_MAX_FAILURES_PER_USER``, ``LOGIN_MAX_FAILURES_PER_ADDRESS`` within
    ``LOGIN_FAILURE_WINDOW``)."""
    # Behind a proxy this is the proxy's address unless uvicorn runs with --proxy-headers and
    # --forwarded-allow-ips naming that proxy.
    address = request.client.host if request.client else "unknown"
    user = await sign_in_service.authenticate(
        session, settings, form.username, form.password, address
    )
    return Token(
        access_token=issue_token(user.username, settings.jwt_secret, settings.access_token_ttl)
    )


@router.get("/me", response_model=UserPublic, responses=responses(Unauthorized))
async def me(user: CurrentUser) -> User:
    return user
