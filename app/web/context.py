"""What every template may use: navigation, language, the current page's query helpers."""

from __future__ import annotations

from flask import Flask, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from app.i18n import app_zone, format_month, utcnow, weekday_names
from app.models import ClosingDay, PickupPoint
from app.services import pickup
from app.web.pagination import page_args

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

# The top bar: (endpoint, label, for logged-in people only); an area appears once its
# blueprint is registered.
NAV = (
    ("catalogue.index", _l("Matériel"), False),
    ("kits.index", _l("Kits"), False),
    ("bookings.mine", _l("Mes réservations"), True),
    ("trainings.index", _l("Formations"), False),
    ("agenda.index", _l("Agenda"), False),
    ("guide.index", _l("Guide"), False),
)


def _upcoming_closing_days(point: PickupPoint, limit: int = 5) -> list[ClosingDay]:
    today = utcnow().astimezone(app_zone()).date()
    return [c for c in point.closing_days if c.day >= today][:limit]


def register(app: Flask) -> None:
    @app.context_processor
    def layout_context():
        return {
            "current_locale": str(get_locale() or "fr"),
            "nav_items": [item for item in NAV if item[0] in app.view_functions],
            "nav_endpoints": app.view_functions,
        }

    # Globals rather than context: macros imported without context see these too.
    app.jinja_env.globals.update(
        page_args=page_args,
        weekday_names=weekday_names,
        format_month=format_month,
        opening_hours=pickup.describe,
        upcoming_closing_days=_upcoming_closing_days,
    )

    @app.after_request
    def security_headers(response):
        # Every script and style is a file of ours: injected markup can run nothing. A page that
        # may be framed (the embeddable agenda) sets its own frame-ancestors first.
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.path.startswith(("/login", "/register", "/password", "/account")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response
