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
    "/auth/token",
    response_model=Token,
    responses=responses(Unauthorized, TooManyRequests),
    summary="Sign in: trade a username and password for a bearer token",
)
async def sign_in(
    form: Annotated[SignInForm, Depends()],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> Token:
    """Anyone. The OAuth2 password flow: post the form (`username`, `password`) and send the
    `access_token` it answers as `Authorization: Bearer <token>` on every other call; in
    these docs, the **Authorize** button does this for you. On a demo stack (`make run`) the
    users `sales1`, `sup1`, `mgr1`, `dir1`, `fin1`, `prod1`, `log1`, `ops1` and the
    customer user `acme` sign in with `demo-pass`.

    401: the username or password is wrong (the answer does not say which). 429: too many
    failures for one username or from one address; `Retry-After` says in how many seconds
    to try again (`LOGIN_MAX_FAILURES_PER_USER`, `LOGIN_MAX_FAILURES_PER_ADDRESS` within
    `LOGIN_FAILURE_WINDOW`)."""
    # Behind a proxy this is the proxy's address unless uvicorn runs with --proxy-headers and
    # --forwarded-allow-ips naming that proxy.
    address = request.client.host if request.client else "unknown"
    user = await sign_in_service.authenticate(
        session, settings, form.username, form.password, address
    )
    return Token(
        access_token=issue_token(user.username, settings.jwt_secret, settings.access_token_ttl)
    )


@router.get(
    "/me",
    response_model=UserPublic,
    responses=responses(Unauthorized),
    summary="Who am I: the signed-in user and its roles",
)
async def me(user: CurrentUser) -> User:
    """Any signed-in user. The roles decide what else the caller may do; a customer user
    also carries the `customer_id` whose orders it sees. 401: no token, or one that is
    invalid or expired."""
    return user
