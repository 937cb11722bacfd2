"""Emails to people, rendered in their own language and written to the outbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from app.db import DbSession
from app.models import Role, User, UserRole
from app.services import outbox
from app.services.context import ServiceContext


def email_user(
    session: DbSession,
    ctx: ServiceContext,
    *,
    key: str,
    user: User,
    subject: Any,
    template: str,
    ics: str | Callable[[], str] | None = None,
    **values: Any,
) -> bool:
    """Queue `email/<template>.txt`, with an HTML part, for one person; False when the key exists.

    `subject` is a lazy string or a callable, evaluated in the person's language; `ics` may be
    a callable too. The key is checked first: the reminder tick offers the same emails every
    minute, and nothing is rendered for one already written.
    """
    if outbox.exists(session, key):
        return False
    return outbox.queue_draft(
        session, ctx, draft=draft(ctx, key=key, user=user, subject=subject, template=template, ics=ics, **values)
    )


def draft(
    ctx: ServiceContext,
    *,
    key: str,
    user: User,
    subject: Any,
    template: str,
    ics: str | Callable[[], str] | None = None,
    **values: Any,
) -> outbox.Draft:
    """One person's email, rendered in their language, ready to be written under its key."""
    email = ctx.render_email(template, locale=user.locale or ctx.default_locale, subject=subject, user=user, **values)
    return outbox.Draft(
        key=key,
        to=user.email,
        subject=f"[La Malle] {email.subject}",
        body_text=email.text,
        body_html=email.html,
        ics=ics() if callable(ics) else ics,
    )


def admins(session: DbSession) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.ADMIN, User.active.is_(True))
            .order_by(User.id)
        )
    )
