"""The JSON API, /api/v1, for partners' sites and members' scripts; its OpenAPI document at
/api/v1/openapi.json and a page that reads it at /api/docs.

Modules by area: public.py (reads, no token), me.py (a member's bookings and trainings),
desk.py (hosts), openapi.py (the document); auth.py (tokens), errors.py (the one error shape),
inputs.py and schemas.py (what is read and written), routing.py (the declaration of each
operation). Every call goes through the same services as the pages.
"""

from __future__ import annotations

from flask import current_app, request

from app.extensions import csrf, limiter
from app.web.api import desk, errors, me, openapi, public  # noqa: F401 - each declares its routes
from app.web.api.auth import rate_limit_key
from app.web.api.routing import MAX_BODY_BYTES, bp

# Tokens authenticate, not cookies: nothing a browser sends on its own can act (app/web/api/auth.py).
csrf.exempt(bp)
# One allowance per token (or per address without one) for the whole API.
limiter.shared_limit(
    lambda: current_app.config.get("API_RATE_LIMIT", "300 per minute"), scope="api", key_func=rate_limit_key
)(bp)
errors.register(bp)


@bp.before_request
def _small_bodies() -> None:
    request.max_content_length = MAX_BODY_BYTES


__all__ = ["bp"]
