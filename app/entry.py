"""The service context, built here and only here, once per entry point.

A web request (`for_request`), a CLI command (`for_cli`) and a scheduled job (`for_job`)
each build the context their services are given. This module alone reads the wall clock
(or the test clock, `FIXED_NOW`), the logged-in person and the app's settings for them.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_request_context, render_template
from flask_babel import force_locale

from app.models import Role, User, UserRole
from app.services.context import RenderedEmail, ServiceContext


def clock(app: Flask | None = None) -> datetime:
    """Now, as an aware UTC instant: the test clock when the configuration fixes one."""
    fixed = (app or current_app).config.get("FIXED_NOW")
    if fixed is None:
        return datetime.now(UTC)
    if isinstance(fixed, str):
        fixed = datetime.fromisoformat(fixed)
    return fixed if fixed.tzinfo else fixed.replace(tzinfo=UTC)


def _on_site(app: Flask) -> AbstractContextManager[Any]:
    """Absolute links in emails point to SITE_URL: outside a web request (the scheduler, the
    CLI) Flask would otherwise build them on http://localhost."""
    if has_request_context():
        return nullcontext()
    return app.test_request_context("/", base_url=app.config["SITE_URL"])


def email_renderer(app: Flask):
    def render(template: str, *, locale: str, subject: Any, **values: Any) -> RenderedEmail:
        with _on_site(app), force_locale(locale):
            subject_text = subject() if callable(subject) else str(subject)
            text = render_template(f"email/{template}.txt", **values)
            # A template's own HTML part when it has one, else its text in the common layout.
            html = render_template([f"email/{template}.html", "email/_plain.html"], body_text=text, **values)
        return RenderedEmail(subject=subject_text, text=text, html=html)

    return render


def build(app: Flask, actor: User | None, now: datetime | None = None) -> ServiceContext:
    return ServiceContext(
        now=now or clock(app),
        actor=actor,
        zone=ZoneInfo(app.config["TIMEZONE"]),
        site_url=app.config["SITE_URL"],
        credentials_key=app.config["CREDENTIALS_KEY"],
        signing_key=app.config["SECRET_KEY"],
        render_email=email_renderer(app),
        default_locale=app.config["DEFAULT_LOCALE"],
    )


def for_request() -> ServiceContext:
    """The logged-in person (or None), now, and the site's settings, for a view."""
    from flask_login import current_user

    actor = current_user._get_current_object() if current_user.is_authenticated else None
    return build(current_app._get_current_object(), actor)  # type: ignore[attr-defined]


def for_api(user: User | None) -> ServiceContext:
    """An API call acts as the owner of its token (None for the public reads), never as the
    person a session cookie names: cookies do not authenticate the API."""
    return build(current_app._get_current_object(), user)  # type: ignore[attr-defined]


def console_operator() -> User:
    """Whom the command line acts as: an administrator without an account.

    Whoever runs a command holds the server itself, more than any admin; the services'
    rules still apply, and the audit trail records the change with no person. The object is
    never added to a session.
    """
    return User(display_name="console", active=True, role_rows=[UserRole(role=Role.ADMIN)])


def for_cli(actor: User | None = None) -> ServiceContext:
    """A command acts as the given person, else as the console's operator."""
    return build(current_app._get_current_object(), actor or console_operator())  # type: ignore[attr-defined]


def for_job(app: Flask) -> ServiceContext:
    """Scheduled work acts as nobody in particular: the audit trail shows the system."""
    return build(app, None)
