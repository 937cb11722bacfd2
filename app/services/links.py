"""Signed links that answer a booking in one tap from an email: "Valider" / "Refuser".

A link names one booking, one person and one action, and is signed with the site's key.
It is single-use without a table of its own: it also carries the booking's `sequence` at
signing time, and every change of the booking makes that grow, so once the request is
answered (by this link, another host's, or the desk) or changed, every older link is dead.
It expires after VALID_FOR, counted on ctx.now: the signer's clock is the context's.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from app.db import DbSession, lock
from app.models import Booking, User
from app.services.booking import can_manage
from app.services.context import ServiceContext
from app.services.errors import Forbidden, NotFound

VALID_FOR = timedelta(days=7)
# Longer than any link this module signs; anything longer is refused before it is decoded.
MAX_TOKEN_LENGTH = 500
_SALT = "lamalle.booking-answer"


class Audience(enum.Enum):
    HOSTS = "hosts"  # the hosts of the département where the resource is kept (and admins)
    HOLDER = "holder"  # the person the booking is for


@dataclass(frozen=True)
class Action:
    audience: Audience
    # The Booking.TRANSITIONS entry the action performs: the link is dead once it is not possible.
    transition: str


# What a link may do: hosts answer a request; the holder of a waitlist hold takes it or lets it go.
ACTIONS: dict[str, Action] = {
    "approve": Action(Audience.HOSTS, "approve"),
    "reject": Action(Audience.HOSTS, "reject"),
    "confirm-hold": Action(Audience.HOLDER, "confirm"),
    "decline-hold": Action(Audience.HOLDER, "decline"),
}


class BadLink(NotFound):
    """Not a link this site signed: cut, edited, or made up."""

    status_code = 400


class DeadLink(NotFound):
    """A genuine link that no longer works: used, overtaken by a change, or expired."""

    status_code = 410


@dataclass(frozen=True)
class Answer:
    booking: Booking
    user: User
    action: str
    expires_at: datetime


def _serializer(ctx: ServiceContext) -> URLSafeTimedSerializer:
    """Signed with ctx.signing_key, dated and aged by ctx.now rather than the system clock."""
    now = int(ctx.now.timestamp())

    class Signer(TimestampSigner):
        def get_timestamp(self) -> int:
            return now

    return URLSafeTimedSerializer(ctx.signing_key, salt=_SALT, signer=Signer)


def sign(ctx: ServiceContext, *, booking: Booking, user: User, action: str) -> str:
    """The token of a link by which `user` does `action` to `booking` as it is now."""
    if action not in ACTIONS:
        raise ValueError(f"no link action {action!r}")
    if booking.id is None or user.id is None:
        raise ValueError("a link names a stored booking and person: flush them first")
    return _serializer(ctx).dumps({"b": booking.id, "u": user.id, "a": action, "s": booking.sequence or 0})


def read(session: DbSession, ctx: ServiceContext, *, token: str) -> Answer:
    """What a link asks, for the person it was sent to; refused with a reason otherwise.

    Refusals: BadLink (not signed here), DeadLink (expired, used, or the booking changed),
    Forbidden (someone else is logged in, or the person may no longer answer). Inside a unit
    of work the booking row is locked, so that of two uses at once the second sees the
    first one's change and is refused.
    """
    payload, signed_at = _decode(ctx, token)
    booking = lock(session, Booking, payload["b"])
    if booking is None:
        raise DeadLink(_("Cette demande n'existe plus."))
    user = session.get(User, payload["u"])
    if user is None or not user.active:
        raise Forbidden(_("Ce lien ne vaut plus pour ce compte."))
    if ctx.actor is not None and ctx.actor.is_authenticated and ctx.actor.id != user.id:
        raise Forbidden(_("Ce lien a été envoyé à une autre personne : il ne vaut pas pour le compte connecté."))
    action = ACTIONS[payload["a"]]
    if action.audience is Audience.HOSTS and not can_manage(user, booking.resource):
        raise Forbidden(
            _("Ce lien ne vaut plus : vous n'êtes plus hôte du département où cette ressource est stockée.")
        )
    if action.audience is Audience.HOLDER and user.id != booking.user_id:
        raise Forbidden(_("Ce lien a été envoyé à une autre personne : il ne vaut pas pour le compte connecté."))
    if booking.sequence != payload["s"] or not booking.can(action.transition):
        # Say where the request stands now: answered by someone, cancelled by its member, moved.
        raise DeadLink(
            _(
                "Ce lien a déjà servi ou la demande a changé : elle est maintenant « %(status)s ».",
                status=booking.status.label,
            )
        )
    return Answer(booking=booking, user=user, action=payload["a"], expires_at=signed_at + VALID_FOR)


def _decode(ctx: ServiceContext, token: str) -> tuple[dict[str, Any], datetime]:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise BadLink(_("Ce lien n'est pas valide : il a peut-être été coupé ou modifié en le copiant."))
    try:
        payload, signed = _serializer(ctx).loads(token, max_age=int(VALID_FOR.total_seconds()), return_timestamp=True)
    except SignatureExpired as exc:
        raise DeadLink(_("Ce lien a expiré : il n'était valable que %(days)d jours.", days=VALID_FOR.days)) from exc
    except BadSignature as exc:
        raise BadLink(_("Ce lien n'est pas valide : il a peut-être été coupé ou modifié en le copiant.")) from exc
    if not (
        isinstance(payload, dict)
        and payload.get("a") in ACTIONS
        and all(type(payload.get(k)) is int for k in ("b", "u", "s"))
    ):
        # Signed by this site with another shape (an older version): not a link we can read.
        raise BadLink(_("Ce lien n'est pas valide : il a peut-être été coupé ou modifié en le copiant."))
    return payload, signed.astimezone(UTC)
