"""Every API error is JSON of one shape, in the caller's language, with its HTTP status:

    {"error": {"code": "conflict", "status": 409, "message": "…", "fields": {"start": ["…"]},
               "next_free_slot": {"start": "…", "end": "…"} | null}}

`code` is for programs, `message` for people. A service's refusal keeps its status (404, 403,
409, 422) and names the input field it is about; a conflict names the next free slot. Errors
answered before a view runs (an address that is no route, a method it does not take, the app's
own checks) are put in the same shape on their way out.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from app.extensions import db, limiter
from app.services.errors import Conflict, DomainError, Forbidden, Full, NotFound, RuleViolation
from app.web.errors import logged_path

log = logging.getLogger(__name__)

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
}

# The services name their fields as the models do; the API as its input does.
_FIELD_NAMES = {"starts_at": "start", "ends_at": "end"}


def _messages() -> dict[int, str]:
    return {
        400: _("La demande n'a pas pu être comprise."),
        401: _("Jeton d'accès manquant, inconnu ou révoqué : envoyez « Authorization: Bearer <jeton> »."),
        403: _("Vous n'avez pas le droit de faire cela."),
        404: _("Ce que vous cherchez n'existe pas ou plus."),
        405: _("Cette adresse ne s'utilise pas avec cette méthode."),
        413: _("Le contenu envoyé dépasse la taille permise."),
        415: _("Envoyez le contenu en JSON (Content-Type: application/json)."),
        429: _("Trop de requêtes en peu de temps : réessayez après le délai indiqué (Retry-After)."),
        500: _("Une erreur est survenue de notre côté. L'équipe en est informée."),
    }


class ApiError(Exception):
    """A refusal of the API layer itself (no token, malformed JSON, invalid input)."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        *,
        code: str | None = None,
        fields: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.fields = fields or {}
        self.headers = headers or {}


def error_response(
    status: int,
    message: str | None = None,
    *,
    code: str | None = None,
    fields: dict[str, list[str]] | None = None,
    next_free_slot: tuple[datetime, datetime] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    from app.web.api.schemas import ErrorOut  # schemas are loaded with the blueprint

    body = {
        "error": {
            "code": code or CODES.get(status, "error"),
            "status": status,
            "message": str(message or _messages().get(status, "")),
            "fields_": {name: [str(text) for text in texts] for name, texts in (fields or {}).items()},
            "next_free_slot": {"start": next_free_slot[0], "end": next_free_slot[1]} if next_free_slot else None,
        }
    }
    response = jsonify(ErrorOut().dump(body))
    response.status_code = status
    response.headers.update(headers or {})
    response.cache_control.no_store = True
    return response


def _domain_code(error: DomainError) -> str:
    for kind, code in (
        (Full, "full"),
        (Conflict, "conflict"),
        (RuleViolation, "rule_violation"),
        (Forbidden, "forbidden"),
        (NotFound, "not_found"),
    ):
        if isinstance(error, kind):
            return code
    return CODES.get(error.status_code, "bad_request")


def domain_response(error: DomainError) -> Response:
    fields = {_FIELD_NAMES.get(error.field, error.field): [error.message]} if error.field else {}
    return error_response(
        error.status_code,
        error.message,
        code=_domain_code(error),
        fields=fields,
        next_free_slot=error.suggestion,
    )


def _retry_after() -> str:
    current = limiter.current_limit
    seconds = int(current.reset_at - time.time()) if current is not None else 60
    return str(max(1, seconds))


def _http_response(exc: HTTPException) -> Response:
    status = exc.code or 500
    headers: dict[str, str] = {}
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    if isinstance(exc, RateLimitExceeded) or status == 429:
        headers["Retry-After"] = _retry_after()
    return error_response(status, headers=headers)


def register(bp: Blueprint) -> None:
    @bp.errorhandler(ApiError)
    def api_error(exc: ApiError):
        return error_response(exc.status, exc.message, code=exc.code, fields=exc.fields, headers=exc.headers)

    @bp.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        return domain_response(exc)

    @bp.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        return _http_response(exc)

    @bp.errorhandler(Exception)
    def unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        log.exception("Unhandled error on %s %s", request.method, logged_path())
        db.session.rollback()
        return error_response(500)

    @bp.after_app_request
    def in_api_shape(response: Response) -> Response:
        return _reshaped(response)


def _reshaped(response: Response) -> Response:
    """An error under /api/ answered by the app's own handlers (no route, wrong method, a NUL in
    the address…) gets the API's shape, its message kept."""
    if not request.path.startswith("/api/") or request.path == "/api/docs" or response.status_code < 400:
        return response
    body: Any = None
    if response.is_json:
        try:
            body = json.loads(response.get_data())
        except ValueError:
            body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and "code" in error:
        return response  # already ours
    message = error.get("message") if isinstance(error, dict) else None
    headers = {name: value for name, value in response.headers.items() if name in ("Allow", "Retry-After")}
    routing = request.routing_exception
    if isinstance(routing, MethodNotAllowed) and routing.valid_methods and "Allow" not in headers:
        headers["Allow"] = ", ".join(sorted(routing.valid_methods))
    if response.status_code == 429 and "Retry-After" not in headers:
        headers["Retry-After"] = _retry_after()
    reshaped = error_response(response.status_code, message or None, headers=headers)
    for name in ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"):
        if name in response.headers:
            reshaped.headers[name] = response.headers[name]
    return reshaped
