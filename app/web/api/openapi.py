"""The OpenAPI 3.1 document, built by apispec from the operations' declarations and their
marshmallow schemas (app/web/api/routing.py), and the page that reads it to people (/api/docs).

Built once per language (summaries and messages are translated) and kept for the process.
"""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from marshmallow import Schema

from app.web.api.routing import OPERATIONS, PUBLIC_MAX_AGE, Operation, bp
from app.web.api.schemas import MAX_ID, BookingOut, ErrorOut, KitBookingOut

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0"
_PARAMETER = re.compile(r"<(?:(?P<converter>[a-zA-Z_][a-zA-Z0-9_]*)(?:\([^)]*\))?:)?(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)>")
_CONVERTED: dict[str, dict[str, Any]] = {
    "int": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    "dept": {"type": "string", "pattern": "^(?:[0-9]{2}|2[AB])$"},
}


def _component_name(schema: type[Schema] | Schema) -> str:
    """Components are named after their schema, less "Out": BookingOut → Booking."""
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__
    return name[: -len("Out")] if name.endswith("Out") and name != "Out" else name


def _plain(value: Any) -> Any:
    """Lazy translations become the text of the current language, for JSON."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    parameters = []
    for match in _PARAMETER.finditer(rule):
        schema = _CONVERTED.get(match["converter"] or "", {"type": "string", "minLength": 1})
        parameters.append({"in": "path", "name": match["name"], "required": True, "schema": dict(schema)})
    return _PARAMETER.sub(lambda m: "{" + m["name"] + "}", rule), parameters


def _error(description: Any, **headers: Any) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": ErrorOut}}}
    if headers:
        response["headers"] = headers
    return response


def _responses(declared: Operation, has_path_parameters: bool) -> dict[str, Any]:
    body = declared.answers[0] if len(declared.answers) == 1 else {"oneOf": list(declared.answers)}
    success: dict[str, Any] = {"description": _l("Réussi"), "content": {"application/json": {"schema": body}}}
    responses: dict[str, Any] = {str(declared.status): success}
    if declared.cached:
        success["headers"] = {
            "ETag": {"description": _l("Pour revalider avec If-None-Match"), "schema": {"type": "string"}}
        }
        responses["304"] = {"description": _l("Inchangé depuis l'ETag envoyé")}
    statuses = set(declared.errors) | {400, 429}  # 400: also an address the app refuses (a NUL)
    if declared.token:
        statuses |= {401, 403}
    if declared.body is not None:
        statuses |= {413, 415, 422}
    if declared.query is not None:
        statuses.add(422)
    if has_path_parameters:
        statuses.add(404)
    descriptions = {
        400: _l("Demande mal formée (JSON, caractère non permis)"),
        401: _l("Jeton manquant, inconnu ou révoqué"),
        403: _l("Refusé à ce compte"),
        404: _l("Introuvable"),
        409: _l("Conflit (déjà pris : next_free_slot propose un créneau)"),
        413: _l("Contenu trop volumineux"),
        415: _l("Le contenu doit être du JSON"),
        422: _l("Valeurs refusées (fields) ou règle non respectée"),
        429: _l("Trop de requêtes"),
    }
    for status in sorted(statuses):
        headers = {}
        if status == 429:
            headers["Retry-After"] = {
                "description": _l("Secondes à attendre"),
                "schema": {"type": "string", "pattern": "^[0-9]+$"},
            }
        responses[str(status)] = _error(descriptions[status], **headers)
    return responses


def _operation(endpoint: str, declared: Operation, path_parameters: list[dict[str, Any]]) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = list(path_parameters)
    if declared.query is not None:
        parameters.append({"in": "query", "schema": declared.query})
    if declared.cached:
        parameters.append(
            {
                "in": "header",
                "name": "If-None-Match",
                "required": False,
                "schema": {"type": "string"},
                "description": _l("L'ETag d'une réponse précédente : 304 si rien n'a changé"),
            }
        )
    found: dict[str, Any] = {
        "operationId": endpoint.split(".", 1)[1],
        "tags": [declared.tag],
        "summary": declared.summary,
        "responses": _responses(declared, bool(path_parameters)),
    }
    if declared.description:
        found["description"] = declared.description
    if parameters:
        found["parameters"] = parameters
    if declared.body is not None:
        # A body with no required field may be left out entirely (cancel, enrol).
        required = any(f.required for f in declared.body().fields.values())
        found["requestBody"] = {"required": required, "content": {"application/json": {"schema": declared.body}}}
    found["security"] = [{"token": []}] if declared.token else []
    return found


def build() -> dict[str, Any]:
    spec = APISpec(
        title="La Malle",
        version=API_VERSION,
        openapi_version=OPENAPI_VERSION,
        plugins=[MarshmallowPlugin(schema_name_resolver=_component_name)],
        info={
            "description": _l(
                "Le matériel, les formations et l'agenda du réseau Science(s) en Occitanie. Les lectures "
                "publiques ne demandent rien ; le reste demande un jeton personnel (page « Mon compte »), "
                "envoyé en « Authorization: Bearer <jeton> ». Les erreurs ont toutes la forme "
                '{"error": {"code", "status", "message", "fields", "next_free_slot"}}.'
            )
        },
    )
    spec.components.security_scheme(
        "token", {"type": "http", "scheme": "bearer", "description": _l("Jeton personnel, créé sur « Mon compte »")}
    )
    for schema in (ErrorOut, BookingOut, KitBookingOut):
        spec.components.schema(_component_name(schema), schema=schema)
    tags = {
        "catalogue": _l("Matériel et disponibilités (public)"),
        "trainings": _l("Formations"),
        "agenda": _l("Agenda (public)"),
        "bookings": _l("Mes réservations (jeton)"),
        "desk": _l("Guichet des hôtes (jeton)"),
    }
    for name, description in tags.items():
        spec.tag({"name": name, "description": description})
    by_path: dict[str, dict[str, Any]] = {}
    for rule in sorted(current_app.url_map.iter_rules(), key=lambda r: r.rule):
        declared = OPERATIONS.get(rule.endpoint)
        if declared is None:
            continue
        path, path_parameters = _path(rule.rule)
        by_path.setdefault(path, {})[declared.method.lower()] = _operation(rule.endpoint, declared, path_parameters)
    for path, operations in by_path.items():
        spec.path(path=path, operations=operations)
    return _plain(spec.to_dict())


def document() -> dict[str, Any]:
    """The document in the current language, built on first use."""
    kept: dict[str, dict[str, Any]] = current_app.extensions.setdefault("lamalle_openapi", {})
    language = str(get_locale() or current_app.config["DEFAULT_LOCALE"])
    if language not in kept:
        kept[language] = build()
    return kept[language]


@bp.route("/v1/openapi.json")
def openapi_json() -> ResponseReturnValue:
    response = jsonify(document())
    response.vary.add("Accept-Language")
    response.cache_control.public = True
    response.cache_control.max_age = PUBLIC_MAX_AGE
    response.add_etag()
    return response.make_conditional(request)


@bp.route("/docs")
def docs() -> str:
    spec = document()
    schemas = spec.get("components", {}).get("schemas", {})
    groups = []
    for tag in spec.get("tags", []):
        operations = [
            (method.upper(), path, found)
            for path, item in spec["paths"].items()
            for method, found in item.items()
            if tag["name"] in found.get("tags", [])
        ]
        if operations:
            groups.append((tag, operations))
    return render_template("api/docs.html", spec=spec, groups=groups, schemas=schemas)
