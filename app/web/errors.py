"""Error pages in the layout for people, JSON errors for API clients; never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.extensions import db
from app.services.errors import DomainError

log = logging.getLogger(__name__)


def _titles() -> dict[int, str]:
    return {
        400: _("Requête incorrecte"),
        403: _("Accès refusé"),
        404: _("Page introuvable"),
        405: _("Méthode non autorisée"),
        409: _("Conflit"),
        413: _("Envoi trop volumineux"),
        422: _("Demande impossible"),
        429: _("Trop de tentatives"),
        500: _("Erreur interne"),
    }


def _explanations() -> dict[int, str]:
    return {
        400: _("La demande n'a pas pu être comprise."),
        403: _("Vous n'avez pas le droit de faire cela."),
        404: _("Ce que vous cherchez n'existe pas ou plus."),
        405: _("Cette adresse ne s'utilise pas ainsi."),
        413: _("Le contenu envoyé dépasse la taille permise."),
        429: _("Trop de tentatives en peu de temps. Réessayez dans quelques minutes."),
        500: _("Une erreur est survenue de notre côté. L'équipe en est informée."),
    }


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(status: int, message: str | None = None):
    title = _titles().get(status, _("Erreur"))
    message = message or _explanations().get(status, "")
    if wants_json():
        return jsonify(error={"status": status, "title": title, "message": message}), status
    return render_template("errors/error.html", status=status, title=title, message=message), status


# Route arguments that are keys (feed tokens, signed links, reset links): never written to a log.
SECRET_ARGUMENTS = ("token",)


def logged_path() -> str:
    """The request's path as a log may keep it: a secret in the address is replaced by its name."""
    path = request.path
    for name in SECRET_ARGUMENTS:
        value = (request.view_args or {}).get(name)
        if isinstance(value, str) and value:
            path = path.replace(value, f"<{name}>")
    return path


def register(app: Flask) -> None:
    @app.before_request
    def refuse_nul_bytes():
        # No text column takes a NUL (PostgreSQL refuses it outright), and no address has one:
        # refused here once rather than by each view. Form fields get their own messages.
        if "\x00" in request.path:
            return error_response(404)  # no page has such an address
        query = request.query_string.decode("latin-1")
        if "\x00" in query or "%00" in query:
            return error_response(400, _("L'adresse contient un caractère non permis."))
        return None

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        return error_response(exc.status_code, exc.message)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return error_response(400, _("Le formulaire a expiré. Rechargez la page et recommencez."))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        message = exc.description if exc.code in (409, 422) else None
        return error_response(exc.code, message)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        log.exception("Unhandled error on %s %s", request.method, logged_path())
        db.session.rollback()
        return error_response(InternalServerError.code)
