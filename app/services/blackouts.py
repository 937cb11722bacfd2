"""Closing a resource, or a département's whole store, for a while (the host's holidays)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from app.db import DbSession
from app.i18n import format_period
from app.models import Blackout, Booking, Resource, User
from app.services import audit
from app.services.context import ServiceContext
from app.services.errors import Conflict, Forbidden, NotFound, RuleViolation

# Bookings a refused closure names in its message; the page links every one.
SHOWN = 5


class ClosureConflict(Conflict):
    """Bookings hold what the closure would close: `bookings` are they, for the page to link."""

    bookings: list[Booking]


def _named(booking: Booking, ctx: ServiceContext) -> str:
    return _(
        "n° %(id)d, %(resource)s pour %(who)s, %(when)s",
        id=booking.id,
        resource=booking.resource.name,
        who=booking.user.display_name,
        when=format_period(booking.starts_at, booking.ends_at, ctx.zone),
    )


def _require_host(actor: User, code: str) -> None:
    if not (actor.is_admin or actor.hosts(code)):
        raise Forbidden(_("Vous n'êtes pas hôte de ce département."))


def create(
    session: DbSession,
    ctx: ServiceContext,
    *,
    departement_code: str,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    resource: Resource | None = None,
) -> Blackout:
    """Refused while holding bookings fall in the period: the host deals with those first."""
    actor = ctx.user
    code = resource.departement_code if resource else departement_code
    _require_host(actor, code)
    if ends_at <= starts_at:
        raise RuleViolation(_("La fin doit venir après le début."), field="ends_at")
    if ends_at <= ctx.now:
        # Members are shown closures still to come; one already over would be kept but never seen.
        raise RuleViolation(_("Cette période est déjà passée : choisissez des dates à venir."), field="ends_at")
    if not reason.strip():
        raise RuleViolation(_("Indiquez la raison, elle est montrée aux membres."), field="reason")
    clash = select(Booking).where(
        Booking.is_holding,
        Booking.starts_at < ends_at,
        Booking.held_until > starts_at,
    )
    if resource is not None:
        clash = clash.where(Booking.resource_id == resource.id)
    else:
        clash = clash.join(Resource, Resource.id == Booking.resource_id).where(Resource.departement_code == code)
    clashing = list(session.scalars(clash.order_by(Booking.starts_at, Booking.id)).unique())
    if clashing:
        refused = ClosureConflict(
            ngettext(
                "%(num)d réservation tombe dans cette période : %(which)s. Annulez-la ou choisissez d'autres dates.",
                "%(num)d réservations tombent dans cette période : %(which)s. "
                "Annulez-les ou choisissez d'autres dates.",
                len(clashing),
                which=" ; ".join(_named(booking, ctx) for booking in clashing[:SHOWN])
                + ("…" if len(clashing) > SHOWN else ""),
            )
        )
        refused.bookings = clashing
        raise refused
    blackout = Blackout(
        resource_id=resource.id if resource else None,
        departement_code=None if resource else code,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason.strip(),
        created_by_id=actor.id,
    )
    session.add(blackout)
    session.flush()
    audit.record(session, ctx, subject_type="blackout", subject_id=blackout.id, action="create", note=code)
    return blackout


def delete(session: DbSession, ctx: ServiceContext, *, blackout_id: int) -> str:
    """Only a host of the département concerned (or an admin); returns that département's code."""
    blackout = session.get(Blackout, blackout_id)
    if blackout is None:
        raise NotFound(_("Cette fermeture n'existe pas."))
    code = blackout.departement_code or (blackout.resource.departement_code if blackout.resource else "")
    _require_host(ctx.user, code)
    lifted = [blackout.resource] if blackout.resource is not None else _kept_in(session, code)
    session.delete(blackout)
    session.flush()
    audit.record(session, ctx, subject_type="blackout", subject_id=blackout_id, action="delete", note=code)
    from app.services import waitlist  # it builds on the booking services, which read closures

    waitlist.offer_freed(session, ctx, resources=lifted)
    return code


def _kept_in(session: DbSession, code: str) -> list[Resource]:
    return list(
        session.scalars(
            select(Resource).where(Resource.departement_code == code, Resource.retired_at.is_(None))
        ).unique()
    )


def for_departement(session: DbSession, code: str, since: datetime) -> list[Blackout]:
    return list(
        session.scalars(
            select(Blackout)
            .outerjoin(Resource, Resource.id == Blackout.resource_id)
            .where((Blackout.departement_code == code) | (Resource.departement_code == code), Blackout.ends_at > since)
            .order_by(Blackout.starts_at)
        )
    )
