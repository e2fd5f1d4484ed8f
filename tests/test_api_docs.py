"""The API documentation works offline and teaches.

``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) load nothing from another host, and every asset
they name is served. The OpenAPI document they show gives every operation a summary of its
own (not FastAPI's title-cased function name), a description, a description for every
parameter, an example for every request body and for every successful JSON answer, and every
example fits the model it illustrates. These checks cover every route, so a route added
later without its documentation fails here.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ValidationError

import api.schemas
from api.app import create_app
from config import Settings
from tests.factories import TEST_PASSWORD, World

PAGES = ("/docs", "/redoc")
# src="..." and href="..." in a page: what a browser loads (or follows) from it.
_REFERENCED = re.compile(r"""\b(?:src|href)\s*=\s*["']([^"']+)["']""")
_ANY_URL = re.compile(r"""\b[a-z][a-z0-9+.-]*://""", re.IGNORECASE)
_CONTENT_TYPES = {
    ".js": ("text/javascript", "application/javascript"),
    ".css": ("text/css",),
    ".png": ("image/png",),
}
# Where the sign-in below comes from: an address of its own, so that the per-address sign-in
# limit of other tests never counts it (TEST-NET-2, unlike the sign-in tests' TEST-NET-3).
_SIGN_IN_ADDRESS = ("198.51.100.7", 40007)


@pytest.fixture(scope="module")
def app(settings: Settings) -> FastAPI:
    """The app as served; the document needs no database or Temporal, so no lifespan runs."""
    return create_app(settings)


@pytest.fixture(scope="module")
def document(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


async def page(api: httpx.AsyncClient, path: str) -> str:
    response = await api.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response.text


# ---------------------------------------------------------------------------- the pages


@pytest.mark.parametrize("path", PAGES)
async def test_the_docs_page_loads_nothing_from_another_host(
    api: httpx.AsyncClient, path: str
) -> None:
    html = await page(api, path)
    assert not _ANY_URL.search(html), f"{path} names another host: {_ANY_URL.findall(html)}"
    referenced = _REFERENCED.findall(html)
    assert referenced, f"{path} loads no script or style sheet"
    assert all(url.startswith("/") and not url.startswith("//") for url in referenced), referenced
    assert "'/openapi.json'" in html or '"/openapi.json"' in html
    document = await api.get("/openapi.json")
    assert document.status_code == 200
    assert document.json()["info"]["title"] == "Order flow"


@pytest.mark.parametrize("path", PAGES)
async def test_every_asset_the_docs_page_names_is_served(api: httpx.AsyncClient, path: str) -> None:
    referenced = _REFERENCED.findall(await page(api, path))
    scripts = [url for url in referenced if url.endswith(".js")]
    assert scripts, f"{path} loads no script"
    for url in referenced:
        response = await api.get(url)
        assert response.status_code == 200, f"{url}: {response.status_code}"
        suffix = url[url.rfind(".") :]
        expected = _CONTENT_TYPES[suffix]
        assert response.headers["content-type"].startswith(expected), (url, response.headers)
        # The real bundles, not an empty stand-in: each is at least tens of kilobytes but the
        # favicon.
        if suffix != ".png":
            assert len(response.content) > 50_000, (url, len(response.content))
        if suffix == ".css":
            # A style sheet loads what its url(...) names: here only inline data.
            loads = re.findall(r"url\(\s*[\"']?([^\"')]+)", response.text)
            assert all(target.startswith("data:") for target in loads), loads


async def test_a_missing_asset_answers_404_in_the_one_error_shape(api: httpx.AsyncClient) -> None:
    response = await api.get("/docs/assets/swagger-ui/nothing-here.js")
    assert response.status_code == 404
    assert response.json()["error"] == "NotFound"


async def test_swagger_ui_signs_in_with_the_password_flow(
    api: httpx.AsyncClient, api_with: Any, world: World, document: dict[str, Any]
) -> None:
    """What the Authorize button does: read the token URL from the document, post the OAuth2
    password form there, then call the API with the token; the redirect page it names is
    served."""
    html = await page(api, "/docs")
    redirect = re.search(r"oauth2RedirectUrl: window\.location\.origin \+ '([^']+)'", html)
    assert redirect is not None
    redirect_page = await api.get(redirect.group(1))
    assert redirect_page.status_code == 200
    assert "swaggerUIRedirectOauth2" in redirect_page.text

    schemes = document["components"]["securitySchemes"]
    [flow] = [
        scheme["flows"]["password"] for scheme in schemes.values() if scheme["type"] == "oauth2"
    ]
    form = {
        "grant_type": "password",
        "username": world["sales"].username,
        "password": TEST_PASSWORD,
    }
    async with api_with(client_address=_SIGN_IN_ADDRESS) as browser:
        token = await browser.post(flow["tokenUrl"], data=form)
        assert token.status_code == 200, token.text
        assert token.json()["token_type"] == "bearer"
        me = await browser.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
        )
    assert me.status_code == 200, me.text
    assert me.json()["username"] == world["sales"].username


# ---------------------------------------------------------------------------- the document


METHODS = ("get", "put", "post", "delete", "patch")


def operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every operation of the document, with a label such as ``GET /api/v1/me``."""
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]


def default_summary(path: str, method: str, operation: dict[str, Any]) -> str:
    """FastAPI's summary when a route gives none: the function's name, title-cased. The
    name is read off FastAPI's default operation id, ``<name><path>_<method>`` with every
    character that is not a word character written as ``_``."""
    suffix = re.sub(r"\W", "_", path) + "_" + method
    operation_id: str = operation["operationId"]
    name = operation_id.removesuffix(suffix)
    return name.replace("_", " ").title()


def test_every_operation_has_a_summary_of_its_own(document: dict[str, Any]) -> None:
    missing = []
    for label, operation in operations(document):
        method, path = label.split(" ", 1)
        summary = operation.get("summary", "")
        if summary in ("", default_summary(path, method.lower(), operation)):
            missing.append(f"{label} ({summary!r})")
    assert len(list(operations(document))) >= 30
    assert not missing, f"operations without a summary of their own: {missing}"


def test_every_operation_has_a_description(document: dict[str, Any]) -> None:
    missing = [
        label
        for label, operation in operations(document)
        if not operation.get("description", "").strip()
    ]
    assert not missing, f"operations without a description: {missing}"


def test_every_parameter_and_header_is_described(document: dict[str, Any]) -> None:
    missing = [
        f"{label}: {parameter['in']} {parameter['name']}"
        for label, operation in operations(document)
        for parameter in operation.get("parameters", [])
        if not parameter.get("description", "").strip()
    ]
    assert not missing, f"parameters without a description: {missing}"


def shows_example(schema: dict[str, Any], components: dict[str, Any], seen: frozenset[str]) -> bool:
    """Whether a reader of the schema sees a real example rather than placeholders: it has
    one, or it is built of parts that all do (every required property, every branch of a
    union, the items of an array). ``null``, booleans, constants and defaults show themselves."""
    if schema.get("examples") or "example" in schema:
        return True
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return name not in seen and shows_example(components[name], components, seen | {name})
    for union in ("anyOf", "oneOf", "allOf"):
        if union in schema:
            return all(shows_example(branch, components, seen) for branch in schema[union])
    if "const" in schema or "enum" in schema or "default" in schema:
        return True
    kind = schema.get("type")
    if kind in ("null", "boolean"):
        return True
    if kind == "array":
        return shows_example(schema.get("items", {}), components, seen)
    if kind == "object" and schema.get("properties"):
        properties = schema["properties"]
        required = schema.get("required", [])
        return bool(required) and all(
            shows_example(properties[name], components, seen) for name in required
        )
    return False


def media_shows_example(media: dict[str, Any], components: dict[str, Any]) -> bool:
    return (
        bool(media.get("examples"))
        or "example" in media
        or (shows_example(media.get("schema", {}), components, frozenset()))
    )


def test_every_request_body_has_an_example(document: dict[str, Any]) -> None:
    components = document["components"]["schemas"]
    bodies = [
        (label, media_type, media)
        for label, operation in operations(document)
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items()
    ]
    assert len(bodies) >= 10
    missing = [
        f"{label} ({media_type})"
        for label, media_type, media in bodies
        if not media_shows_example(media, components)
    ]
    assert not missing, f"request bodies without an example: {missing}"


def test_every_successful_json_answer_has_an_example(document: dict[str, Any]) -> None:
    components = document["components"]["schemas"]
    answers = [
        (f"{label} {status}", media)
        for label, operation in operations(document)
        for status, answer in operation["responses"].items()
        if status.startswith("2")
        for media_type, media in answer.get("content", {}).items()
        if media_type.endswith("json")
    ]
    assert len(answers) >= 20
    missing = [label for label, media in answers if not media_shows_example(media, components)]
    assert not missing, f"successful answers without an example: {missing}"


def schema_models() -> Iterator[type[BaseModel]]:
    """Every model defined in ``api.schemas`` and its modules."""
    for module_info in pkgutil.iter_modules(api.schemas.__path__, "api.schemas."):
        module = importlib.import_module(module_info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseModel) and value.__module__ == module.__name__:
                yield value


def test_every_example_fits_its_model() -> None:
    """An example teaches only if it is true: each one, sent as JSON, is a valid instance of
    the model it illustrates (an example a subclass inherits included)."""
    checked, wrong = 0, []
    for model in schema_models():
        if model.__pydantic_generic_metadata__["parameters"]:
            continue  # a generic such as Page[T]; its parametrised forms are built of examples
        for example in model.model_json_schema().get("examples", []):
            checked += 1
            try:
                model.model_validate_json(json.dumps(example))
            except ValidationError as error:
                wrong.append(f"{model.__name__}: {error}")
    assert checked >= 20
    assert not wrong, "examples that do not fit their model:\n" + "\n".join(wrong)


def test_the_document_shows_every_example_whole(document: dict[str, Any]) -> None:
    """The examples as served: every required field there, ``null`` ones included (FastAPI
    leaves nulls out of the document unless put back), in the model's field order."""
    schemas = document["components"]["schemas"]
    shown = {name: schema for name, schema in schemas.items() if schema.get("examples")}
    assert len(shown) >= 20
    problems = []
    for name, schema in shown.items():
        for example in schema["examples"]:
            if not isinstance(example, dict):
                continue
            missing = set(schema.get("required", [])) - set(example)
            if missing:
                problems.append(f"{name} lacks {sorted(missing)}")
            fields = [key for key in schema.get("properties", {}) if key in example]
            if list(example)[: len(fields)] != fields:
                problems.append(f"{name} keys out of order: {list(example)}")
    assert not problems, problems
    order = schemas["OrderPublic"]["examples"][0]
    assert list(order)[:2] == ["order_no", "status"]
    assert order["held_from"] is None
