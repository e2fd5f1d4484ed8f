"""The demo's client of the order-flow API: one bearer token per demo user, JSON in and out."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any

import httpx

DEMO_PASSWORD = "demo-pass"
# Updates such as dispatch or cancel answer once the workflow has acted, which may take a
# few seconds on a busy laptop.
REQUEST_TIMEOUT_SECONDS = 30.0


class ApiUnavailable(Exception):
    """Nothing answers at the API's address."""


class ApiError(Exception):
    """The API refused a request; the message says which request and why."""

    def __init__(self, method: str, path: str, status: int, detail: str) -> None:
        super().__init__(f"{method} {path} answered {status}: {detail}")
        self.status = status


class Api:
    """Calls ``/api/v1`` as one of the demo users, signing each in on first use."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=REQUEST_TIMEOUT_SECONDS)
        self._tokens: dict[str, str] = {}
        self._sign_in_lock = asyncio.Lock()

    async def __aenter__(self) -> Api:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._http.aclose()

    async def check_alive(self) -> None:
        """Raise :class:`ApiUnavailable` unless ``GET /healthz`` answers 200."""
        try:
            response = await self._http.get("/healthz", timeout=3.0)
        except httpx.TransportError as exc:
            raise ApiUnavailable(str(exc)) from exc
        if response.status_code != 200:
            raise ApiUnavailable(f"GET /healthz answered {response.status_code}")

    async def sign_in(self, username: str) -> None:
        async with self._sign_in_lock:
            if username in self._tokens:
                return
            response = await self._http.post(
                "/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD}
            )
            body = _json(response, "POST", "/auth/token")
            self._tokens[username] = body["access_token"]

    async def get(self, user: str, path: str, **params: str | int) -> Any:
        return await self._call(user, "GET", path, params=params)

    async def post(
        self,
        user: str,
        path: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        return await self._call(user, "POST", path, json=body, headers=headers)

    async def _call(
        self,
        user: str,
        method: str,
        path: str,
        *,
        params: dict[str, str | int] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        await self.sign_in(user)
        response = await self._http.request(
            method,
            f"/api/v1{path}",
            params=params,
            json=json,
            headers={"Authorization": f"Bearer {self._tokens[user]}", **(headers or {})},
        )
        return _json(response, method, path)


def _json(response: httpx.Response, method: str, path: str) -> Any:
    if response.is_success:
        return response.json()
    try:
        detail = response.json().get("detail", response.text)
    except ValueError:
        detail = response.text
    raise ApiError(method, path, response.status_code, str(detail))
