"""The OpenAPI document says what every operation can answer, in the one error shape, and
opens with what a newcomer needs to make a first call.

FastAPI documents its own 422 body, which this API does not send, and knows nothing of the
answers that wrap every route (413, 500, and 503 while PostgreSQL is away). Rewritten once,
here, when the document is first built, every operation documents: 422 as
``ValidationErrorBody``; 413 when it takes a body; 500 with the request id; 503 for the
routes under ``/api/v1``; and each refusal a route declares (``api.errors.responses``) with a
sentence and an example of its body instead of its bare kind. What an operation does, who
may call it and what its refusals mean in its own terms is its own description (the route's
docstring or ``description``).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from api.errors import ErrorBody, ValidationErrorBody

_SCHEMAS = "#/components/schemas/"
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
_METHODS = ("get", "put", "post", "delete", "patch")
_API_PREFIX = "/api/v1"

_INTRODUCTION = """\
An order is entered by sales, reviewed level by level by approvers, made or taken from
stock, shipped, delivered and confirmed. This API is how people and systems act on orders and
read them; operations staff also follow each order in the Temporal UI (workflow
`order-<order_no>`).

**Signing in.** Click **Authorize**, enter a username and password (on a demo stack from
`make run`: `sales1`, `sup1`, `mgr1`, `dir1`, `fin1`, `prod1`, `log1`, `ops1` or the
customer user `acme`, each with the password `demo-pass`); every call is then sent with the
bearer token. Outside these pages: `POST /api/v1/auth/token` with the form fields `username`
and `password`, then `Authorization: Bearer <access_token>`.

**A first walk.** As `sales1`, `POST /api/v1/orders` (its example enters an order for ACME);
as `sup1`, `GET /api/v1/approvals/pending` and `POST /api/v1/orders/{order_no}/decisions`;
read the order with `GET /api/v1/orders/{order_no}`. `GET /api/v1/order-statuses` lists the
statuses and which actions fit each.

**Lists** answer `{"data": [...], "next_cursor": ...}`: pass `next_cursor` back as `cursor`
for the next page, until it is `null`.

**Errors** have one shape: `{"error": "<Kind>", "detail": "<one sentence>"}` (a 422 for a
body or parameter that does not fit its schema lists the fields under `detail`). 401: sign in;
403: your roles do not allow it; 404: no such thing, or not yours to see; 409: the order's
status does not allow it now; 422: the input is not valid; 429 and 503 come with
`Retry-After`. A refused request changes nothing.
"""

_TAGS = [
    {"name": "auth", "description": "Signing in, and who the caller is."},
    {"name": "reference", "description": "Statuses, products, customers, lines and alerts."},
    {
        "name": "orders",
        "description": "Enter orders, read them, and act on them through their lifecycle.",
    },
    {"name": "logistics", "description": "Tracking events from the carrier."},
    {
        "name": "approvals",
        "description": "The approval policy, delegations and the approvals waiting on you.",
    },
    {"name": "notifications", "description": "Your in-app inbox, and webhooks (ops)."},
    {"name": "audit", "description": "The hash-chained audit trail (ops)."},
    {"name": "health", "description": "Liveness and readiness probes for load balancers."},
]

# Per status: what the refusal means wherever it is answered, and an example of its body.
_REFUSALS: dict[str, tuple[str, str, str]] = {
    "401": (
        "Not signed in: no bearer token, or one that is invalid or expired.",
        "Unauthorized",
        "sign in first: send a bearer token from POST /api/v1/auth/token",
    ),
    "403": (
        "The caller may not do this: its roles, or the rules of the order, do not allow it.",
        "Forbidden",
        "this needs one of the roles: sales",
    ),
    "404": (
        "No such thing, or not one the caller may see.",
        "NotFound",
        "order SO-2026-000123 does not exist",
    ),
    "409": (
        "The current state does not allow this now; `detail` says why.",
        "Conflict",
        "the order is SHIPPED, not UNDER_REVIEW",
    ),
    "429": (
        "Too many requests for now; try again after `Retry-After` seconds.",
        "TooManyRequests",
        "order SO-2026-000123 has too many requests in progress; try again shortly",
    ),
    "503": (
        "PostgreSQL or the order's workflow cannot answer right now; nothing was changed "
        "unless `detail` says otherwise. Try again after `Retry-After` seconds.",
        "Unavailable",
        "the database cannot be reached right now; try again shortly",
    ),
}


# A 422 for a body that does not fit its schema: the field list, each entry where and why.
_BODY_NOT_VALID = {
    "error": "ValidationError",
    "detail": [
        {
            "type": "missing",
            "loc": ["body", "lines"],
            "msg": "Field required",
            "input": {"customer_id": 1},
        }
    ],
}


def _reply(description: str, model: str, example: dict[str, Any] | None = None) -> dict[str, Any]:
    media: dict[str, Any] = {"schema": {"$ref": f"{_SCHEMAS}{model}"}}
    if example is not None:
        media["example"] = example
    return {"description": description, "content": {"application/json": media}}


def _refusal(status: str) -> dict[str, Any]:
    description, kind, detail = _REFUSALS[status]
    return _reply(description, "ErrorBody", {"error": kind, "detail": detail})


def _add_models(document: dict[str, Any]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    for model in (ErrorBody, ValidationErrorBody):
        definition = model.model_json_schema(ref_template=_SCHEMAS + "{model}")
        schemas.update(definition.pop("$defs", {}))
        schemas[model.__name__] = definition


def _document_operation(path: str, operation: dict[str, Any]) -> None:
    answers = operation.setdefault("responses", {})
    for status in _REFUSALS:
        # A refusal the route declared with its bare kind gets the sentence and an example.
        if status in answers and answers[status].get("description") == _REFUSALS[status][1]:
            answers[status] = _refusal(status)
    has_body = "requestBody" in operation
    if "422" in answers:
        answers["422"] = _reply(
            "The request is not valid; detail says why.",
            "ValidationErrorBody",
            _BODY_NOT_VALID if has_body else None,
        )
    if has_body:
        answers["413"] = _reply("The body is larger than the limit.", "ErrorBody")
    # Every route under the prefix reads PostgreSQL (if only to check the caller's token);
    # the probes say themselves what they answer.
    probe = "health" in operation.get("tags", [])
    if path.startswith(_API_PREFIX) and not probe and "503" not in answers:
        answers["503"] = _refusal("503")
    answers["500"] = _reply("An unhandled fault, logged under request_id.", "ErrorBody")


def _show_parameter_examples(operation: dict[str, Any]) -> None:
    """A parameter's example at the parameter itself, where Swagger UI fills it in."""
    for parameter in operation.get("parameters", []):
        examples = parameter.get("schema", {}).get("examples")
        if examples and "example" not in parameter and "examples" not in parameter:
            parameter["example"] = examples[0]


def _as_shown(value: Any, schema: dict[str, Any], schemas: dict[str, Any]) -> Any:
    """``value`` (an example) as the model gives it: each object's keys in the order of the
    schema's properties, and its required ``null`` values back. Pydantic sorts an example's
    keys alphabetically (``created_at`` before ``order_no``), and FastAPI leaves every
    ``null`` out of the document, examples included."""
    while "$ref" in schema:
        schema = schemas.get(schema["$ref"].removeprefix(_SCHEMAS), {})
    if isinstance(value, list):
        return [_as_shown(item, schema.get("items", {}), schemas) for item in value]
    if not isinstance(value, dict):
        return value
    for branch in schema.get("anyOf", []):
        if "$ref" in branch:
            return _as_shown(value, branch, schemas)
    properties = schema.get("properties", {})
    required = schema.get("required", [])
    shown = {
        key: _as_shown(value[key], spec, schemas) if key in value else None
        for key, spec in properties.items()
        if key in value or (key in required and _nullable(spec))
    }
    return shown | {key: item for key, item in value.items() if key not in properties}


def _nullable(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "null" or any(_nullable(b) for b in schema.get("anyOf", []))


def _order_examples(document: dict[str, Any]) -> None:
    schemas = document.get("components", {}).get("schemas", {})
    for schema in schemas.values():
        if schema.get("examples") and schema.get("properties"):
            schema["examples"] = [_as_shown(ex, schema, schemas) for ex in schema["examples"]]


def install_openapi(app: FastAPI) -> None:
    """Build the document FastAPI builds, then document the error answers (see above)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            document["info"]["description"] = _INTRODUCTION
            document["tags"] = _TAGS
            _add_models(document)
            _order_examples(document)
            for path, item in document.get("paths", {}).items():
                for method in _METHODS:
                    if method in item:
                        _document_operation(path, item[method])
                        _show_parameter_examples(item[method])
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
