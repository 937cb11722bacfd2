"""Reading a call's input: the query string and the JSON body, each through its schema.

Whatever is wrong is a 4xx with the API's error shape and nothing done: a body that is not
JSON (400), not sent as JSON (415), too large (413, from MAX_BODY_BYTES), or that its schema
refuses (422, every field with its message).
"""

from __future__ import annotations

import json
from typing import Any

from flask import request
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError

from app.web.api.errors import ApiError


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as {"field": [...], "checked.2": [...]}; the whole body is "body"."""
    found: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = "body" if key == "_schema" else str(key)
            found.update(_flatten(value, f"{prefix}.{name}" if prefix else name))
    elif isinstance(messages, list | tuple):
        texts = [str(m) for m in messages if not isinstance(m, dict | list)]
        if texts:
            found[prefix or "body"] = texts
        for nested in (m for m in messages if isinstance(m, dict | list)):
            found.update(_flatten(nested, prefix))
    else:
        found[prefix or "body"] = [str(messages)]
    return found


def invalid(error: ValidationError) -> ApiError:
    return ApiError(422, _("Certaines valeurs ne conviennent pas."), code="invalid", fields=_flatten(error.messages))


def load_query(schema: type[Schema]) -> dict[str, Any]:
    try:
        return schema().load(request.args)
    except ValidationError as error:
        raise invalid(error) from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def load_body(schema: type[Schema]) -> dict[str, Any]:
    raw = request.get_data(cache=True)  # past request.max_content_length: 413
    if not raw.strip():
        data: Any = {}
    elif not request.is_json:
        raise ApiError(415, _("Envoyez le contenu en JSON (Content-Type: application/json)."))
    else:
        try:
            data = json.loads(raw, parse_constant=_refuse_constant)
        except (ValueError, RecursionError):  # not JSON, not UTF-8, NaN, or nested past reason
            raise ApiError(400, _("Le contenu n'est pas du JSON valide."), code="malformed_json") from None
    try:
        return schema().load(data)
    except ValidationError as error:
        raise invalid(error) from None
