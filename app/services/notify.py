"""Emails to people, rendered in their own language and written to the outbox."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime

from flask import current_app, has_request_context, render_template
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import site_domain as domain_of
from app.models import Role, User, UserRole
from app.services import outbox


def email_user(
    session: Session,
    *,
    key: str,
    user: User,
    subject,
    template: str,
    now: datetime,
    ics: str | Callable[[], str] | None = None,
    **context,
) -> bool:
    """Queue `email/<template>.txt`, with an HTML part, for one person; False when the key exists.

    `subject` is a lazy string or a callable, evaluated in the person's language; `ics` may be
    a callable too. The key is checked first: the reminder tick offers the same emails every
    minute, and nothing is rendered for one already written.
    """
    if outbox.exists(session, key):
        return False
    with _on_site(), force_locale(user.locale or "fr"):
        subject_text = subject() if callable(subject) else str(subject)
        text = render_template(f"email/{template}.txt", user=user, **context)
        # A template's own HTML part when it has one, else its text in the common layout.
        html = render_template([f"email/{template}.html", "email/_plain.html"], user=user, body_text=text, **context)
    return outbox.queue(
        session,
        key=key,
        to=user.email,
        subject=f"[La Malle] {subject_text}",
        body_text=text,
        body_html=html,
        ics=ics() if callable(ics) else ics,
        now=now,
    )


def _on_site():
    """Absolute links in emails point to SITE_URL: outside a web request (the scheduler, the
    CLI) Flask would otherwise build them on http://localhost."""
    if has_request_context():
        return nullcontext()
    return current_app.test_request_context("/", base_url=current_app.config["SITE_URL"])


def site_domain() -> str:
    """The domain of iCal UIDs in attachments, from SITE_URL."""
    return domain_of(current_app.config["SITE_URL"])


def admins(session: Session) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.ADMIN.value, User.active.is_(True))
            .order_by(User.id)
        )
    )
