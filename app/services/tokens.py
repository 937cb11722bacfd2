"""Personal API tokens: made on the profile page (or by `flask create-token`), shown once, stored hashed.

A token is `secrets.token_urlsafe(32)`: 256 random bits, so a plain SHA-256 of it is enough
to store (nothing to slow down a guess of that size). A call is authenticated by looking the
hash up, an index probe whose time does not depend on how much of a wrong token is right.
The last use is written at most once a minute, so that a script's reads stay reads.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from app.db import DbSession
from app.models import ApiToken, User
from app.services import audit
from app.services.context import ServiceContext
from app.services.errors import Forbidden, NotFound, RuleViolation

TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,100}")  # what secrets.token_urlsafe gives, with room
PREFIX_LENGTH = 8
NAME_MAX = 80
# How stale "last used" may be: a script polling every second writes once a minute, not every call.
TOUCH_EVERY = timedelta(minutes=1)
# Enough for every script and site of one person; a runaway loop creating tokens stops here.
MAX_ACTIVE = 20


@dataclass(frozen=True)
class Created:
    """A new token: `secret` is what the person copies; it is never shown again."""

    token: ApiToken
    secret: str


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _clean_name(name: str) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise RuleViolation(_("Donnez un nom à ce jeton (le script ou le site qui l'utilise)."), field="name")
    if len(cleaned) > NAME_MAX:
        raise RuleViolation(_("%(num)d caractères au plus.", num=NAME_MAX), field="name")
    if any(ord(c) < 32 or c in "<>" for c in cleaned):
        raise RuleViolation(_("Ce champ contient des caractères non permis."), field="name")
    return cleaned


def create(session: DbSession, ctx: ServiceContext, *, name: str, user: User | None = None) -> Created:
    """A token acting as `user` (the acting person by default; only an admin makes one for another)."""
    actor = ctx.user
    owner = user or actor
    if owner.id != actor.id and not actor.is_admin:
        raise Forbidden(_("Vous ne pouvez créer un jeton que pour vous-même."))
    if not owner.is_active:
        raise Forbidden(_("Ce compte est désactivé."))
    cleaned = _clean_name(name)
    if len(listed(session, owner)) >= MAX_ACTIVE:
        raise RuleViolation(_("%(num)d jetons actifs au plus : révoquez-en un d'abord.", num=MAX_ACTIVE), field="name")
    secret = secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=owner.id,
        name=cleaned,
        token_hash=digest(secret),
        prefix=secret[:PREFIX_LENGTH],
        created_at=ctx.now,
    )
    session.add(token)
    session.flush()
    # The audit names the token by its prefix, never by the secret.
    audit.record(session, ctx, subject_type="api_token", subject_id=token.id, action="create", note=token.prefix)
    return Created(token=token, secret=secret)


def listed(session: DbSession, user: User, *, include_revoked: bool = False) -> list[ApiToken]:
    """A person's tokens, newest first."""
    query = select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if not include_revoked:
        query = query.where(ApiToken.revoked_at.is_(None))
    return list(session.scalars(query).unique())


def revoke(session: DbSession, ctx: ServiceContext, *, token_id: int) -> ApiToken:
    """Its owner (or an admin) ends a token at once: the next call made with it gets 401."""
    actor = ctx.user
    token = session.get(ApiToken, token_id)
    # Someone else's token is "not found": its existence is nobody else's business.
    if token is None or (token.user_id != actor.id and not actor.is_admin):
        raise NotFound(_("Ce jeton n'existe pas."))
    if token.revoked_at is None:
        token.revoked_at = ctx.now
        session.flush()
        audit.record(session, ctx, subject_type="api_token", subject_id=token.id, action="revoke", note=token.prefix)
    return token


def find(session: DbSession, secret: str | None) -> ApiToken | None:
    """The active token of an active person that `secret` is, else None (a read, nothing written)."""
    if not secret or not TOKEN_SHAPE.fullmatch(secret):
        return None
    wanted = digest(secret)
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == wanted))
    if token is None or not hmac.compare_digest(token.token_hash, wanted):
        return None
    if token.revoked_at is not None or not token.user.is_active:
        return None
    return token


def is_stale(token: ApiToken, ctx: ServiceContext) -> bool:
    """Whether its last use is old enough to be written again."""
    return token.last_used_at is None or token.last_used_at <= ctx.now - TOUCH_EVERY


def touch(session: DbSession, ctx: ServiceContext, *, token: ApiToken) -> None:
    """Write the last use, unless a concurrent call wrote it within the minute (one UPDATE)."""
    session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token.id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= ctx.now - TOUCH_EVERY),
        )
        .values(last_used_at=ctx.now)
        .execution_options(synchronize_session=False)
    )


def authenticate(session: DbSession, ctx: ServiceContext, secret: str | None) -> ApiToken | None:
    """`find`, then note the use (at most once a minute); the caller owns the unit of work."""
    token = find(session, secret)
    if token is not None and is_stale(token, ctx):
        touch(session, ctx, token=token)
    return token
