"""PostgreSQL away (restarting, failing over): the API answers 503 with ``Retry-After``, the
one shape, like a workflow that cannot answer — not a 500 to be reported. Found by the chaos
run, where every request during a PostgreSQL restart answered 500."""

from __future__ import annotations

import httpx
import psycopg
import pytest
from sqlalchemy.exc import OperationalError
from temporalio.client import Client

from api.app import create_app
from api.errors import database_unreachable
from config import Settings


async def _get(settings: Settings, temporal_client: Client, error: Exception) -> httpx.Response:
    app = create_app(settings, temporal_client)

    @app.get("/failing")
    async def failing() -> None:
        raise error

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            return await http.get("/failing")


async def test_a_database_that_cannot_be_reached_answers_503_to_try_again(
    settings: Settings, temporal_client: Client
) -> None:
    refused = psycopg.OperationalError(
        'connection to server on socket "/tmp/pg/.s.PGSQL.5432" failed: Connection refused'
    )
    error = OperationalError("SELECT 1", {}, refused)
    response = await _get(settings, temporal_client, error)
    assert response.status_code == 503, response.text
    assert response.json() == {
        "error": "Unavailable",
        "detail": "the database cannot be reached right now; try again shortly",
    }
    assert int(response.headers["Retry-After"]) >= 1


async def test_a_database_error_that_does_not_heal_still_answers_500(
    settings: Settings, temporal_client: Client
) -> None:
    division = psycopg.errors.DivisionByZero("division by zero")
    response = await _get(settings, temporal_client, OperationalError("SELECT 1/0", {}, division))
    assert response.status_code == 500, response.text
    assert response.json()["error"] == "InternalError"


@pytest.mark.parametrize(
    ("error", "unreachable"),
    [
        (psycopg.OperationalError("server closed the connection unexpectedly"), True),
        (psycopg.errors.AdminShutdown("terminating connection due to administrator command"), True),
        (psycopg.errors.CannotConnectNow("the database system is starting up"), True),
        (psycopg.errors.SerializationFailure("could not serialize access"), False),
        (psycopg.errors.QueryCanceled("canceling statement due to statement timeout"), False),
        (RuntimeError("not a database error"), False),
    ],
)
def test_which_database_errors_heal(error: Exception, unreachable: bool) -> None:
    assert database_unreachable(error) is unreachable
    assert database_unreachable(OperationalError("SELECT 1", {}, error)) is unreachable
