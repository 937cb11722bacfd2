"""What a département host sees at their desk: requests, pickups and returns due, items out, late returns."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, select

from app.db import DbSession
from app.models import Booking, BookingStatus, Category, Resource, User
from app.services.calendar import local_midnight
from app.services.context import ServiceContext
from app.services.errors import Forbidden

S = BookingStatus


@dataclass
class DeskView:
    codes: list[str]
    requests: list[Booking]
    pickups_today: list[Booking]
    pickups_week: list[Booking]
    returns_today: list[Booking]
    returns_week: list[Booking]
    out_now: list[Booking]
    late: list[Booking]


def allowed_codes(actor: User, wanted: str | None) -> list[str]:
    """The départements this desk covers; a host asking for another's gets Forbidden."""
    mine = sorted(actor.host_codes)
    if wanted:
        if not (actor.is_admin or wanted in mine):
            raise Forbidden(_("Vous n'êtes pas hôte de ce département."))
        return [wanted]
    if not mine and not actor.is_admin:
        raise Forbidden(_("Vous n'êtes hôte d'aucun département."))
    return mine


def _bookings_in(codes: Iterable[str]) -> Select[Booking]:
    return (
        select(Booking)
        .join(Resource, Resource.id == Booking.resource_id)
        .join(Category, Category.id == Resource.category_id)
        .where(Resource.departement_code.in_(list(codes)))
    )


def overview(session: DbSession, ctx: ServiceContext, *, codes: list[str]) -> DeskView:
    actor, now, zone = ctx.user, ctx.now, ctx.zone
    if not (actor.is_admin or set(codes) <= actor.host_codes):
        raise Forbidden(_("Vous n'êtes pas hôte de ce département."))
    today: date = now.astimezone(zone).date()
    day_end = local_midnight(today + timedelta(days=1), zone)
    week_end = local_midnight(today + timedelta(days=7), zone)
    day_start = local_midnight(today, zone)
    base = _bookings_in(codes)
    physical = Category.needs_pickup.is_(True)

    def fetch(query: Select[Booking]) -> list[Booking]:
        return list(session.scalars(query).unique())

    pickups = fetch(
        base.where(
            physical, Booking.status == S.APPROVED, Booking.starts_at < week_end, Booking.ends_at > now
        ).order_by(Booking.starts_at)
    )
    returns = fetch(
        base.where(Booking.status == S.PICKED_UP, Booking.ends_at > now, Booking.ends_at < week_end).order_by(
            Booking.ends_at
        )
    )
    return DeskView(
        codes=codes,
        requests=fetch(base.where(Booking.status == S.REQUESTED).order_by(Booking.starts_at)),
        pickups_today=[b for b in pickups if b.starts_at < day_end],
        pickups_week=[b for b in pickups if b.starts_at >= day_end],
        returns_today=[b for b in returns if day_start <= b.ends_at < day_end],
        returns_week=[b for b in returns if b.ends_at >= day_end],
        out_now=fetch(base.where(Booking.status == S.PICKED_UP).order_by(Booking.ends_at)),
        late=fetch(base.where(Booking.is_late_at(now)).order_by(Booking.ends_at)),
    )
