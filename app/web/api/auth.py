"""Who calls the API: the owner of the personal token sent as `Authorization: Bearer <token>`.

Only the token counts. A browser's session cookie never authenticates an API call (a logged-in
person's page calling /api/v1/me/… gets 401 like anyone without a token), and a token never
opens a page: the pages know nothing but their session. So no API call needs a CSRF token.

The token is looked up once per call (`current_token`), first by the rate limiter, whose key it
is: each token has its own allowance, calls without one share their address's.
"""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address

from app import entry
from app.db import unit_of_work
from app.extensions import db
from app.models import ApiToken, User
from app.services import tokens
from app.web.api.errors import ApiError

_UNSET = object()
FOUND_KEY = "lamalle.api_token"
API_USER_KEY = "lamalle.api_user"  # read by app/i18n.py


def presented_secret() -> str | None:
    """The token of `Authorization: Bearer <token>`, if that is what the header holds."""
    scheme, _space, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def current_token() -> ApiToken | None:
    """The valid token this call presents, read once per call (kept in the request's own
    environ: `g` may outlive a request, e.g. under a test client sharing an app context)."""
    found = request.environ.get(FOUND_KEY, _UNSET)
    if found is _UNSET:
        secret = presented_secret()
        found = tokens.find(db.session, secret) if secret else None
        request.environ[FOUND_KEY] = found
        # The language of its owner, when the call does not ask for one (app/i18n.py).
        request.environ[API_USER_KEY] = found.user if found is not None else None
    return found


def rate_limit_key() -> str:
    token = current_token()
    return f"api-token:{token.token_hash}" if token is not None else f"api-address:{get_remote_address()}"


def require_user() -> User:
    """The token's owner, or 401. Its last use is written at most once a minute."""
    token = _presented_or_401()
    ctx = entry.for_api(token.user)
    if tokens.is_stale(token, ctx):
        with unit_of_work(db.session):
            tokens.touch(db.session, ctx, token=token)
    return token.user


def user() -> User:
    """The caller of a token operation (`require_user` has already let it in)."""
    return _presented_or_401().user


def _presented_or_401() -> ApiToken:
    token = current_token()
    if token is None:
        raise ApiError(
            401,
            _("Jeton d'accès manquant, inconnu ou révoqué : envoyez « Authorization: Bearer <jeton> »."),
            headers={"WWW-Authenticate": 'Bearer realm="La Malle"'},
        )
    return token
