"""The OpenAPI document says what every operation can answer, in the one error shape.

FastAPI documents its own 422 body, which this API does not send, and knows nothing of the
answers that wrap every route (413, 500). Rewritten once, here, when the document is first
built, every operation documents: 422 as ``ValidationErrorBody``; 413 when it takes a body;
500 with the request id.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from api.errors import ErrorBody, ValidationErrorBody

_SCHEMAS = "#/components/schemas/"
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
_METHODS = ("get", "put", "post", "delete", "patch")


def _reply(description: str, model: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"{_SCHEMAS}{model}"}}},
    }


def _add_models(document: dict[str, Any]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    for model in (ErrorBody, ValidationErrorBody):
        definition = model.model_json_schema(ref_template=_SCHEMAS + "{model}")
        schemas.update(definition.pop("$defs", {}))
        schemas[model.__name__] = definition


def _document_operation(operation: dict[str, Any]) -> None:
    answers = operation.setdefault("responses", {})
    if "422" in answers:
        answers["422"] = _reply("The request is not valid; detail says why.", "ValidationErrorBody")
    if "requestBody" in operation:
        answers["413"] = _reply("The body is larger than the limit.", "ErrorBody")
    answers["500"] = _reply("An unhandled fault, logged under request_id.", "ErrorBody")


def install_openapi(app: FastAPI) -> None:
    """Build the document FastAPI builds, then document the error answers (see above)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            _add_models(document)
            for path in document.get("paths", {}).values():
                for method in _METHODS:
                    if method in path:
                        _document_operation(path[method])
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
