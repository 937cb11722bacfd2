"""What a département host sees at their desk: requests, pickups and returns due, items out, late returns."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, select

from app.db import DbSession
from app.models import Booking, BookingStatus, Category, Handover, HandoverKind, Resource, User
from app.services import loan
from app.services.calendar import local_midnight
from app.services.context import ServiceContext
from app.services.errors import Forbidden

S = BookingStatus
# How far ahead the desk lists pickups: two weeks, so that a host sees next week's too.
UPCOMING_DAYS = 14
DAY = timedelta(days=1)


@dataclass
class DeskView:
    codes: list[str]
    now: datetime
    requests: list[Booking]
    pickups_today: list[Booking]
    pickups_upcoming: list[Booking]  # after today, within UPCOMING_DAYS
    returns_today: list[Booking]
    out_now: list[Booking]  # out, due back after today
    late: list[Booking]
    missed: list[Booking]  # ended without being picked up, not yet marked
    recent: list[loan.LastAction]  # what the acting host may still undo
    handovers: dict[int, list[Handover]] = field(default_factory=dict)

    def days_late(self, booking: Booking) -> int:
        """Whole days past the end, as the overdue reminders count them (0: less than a day)."""
        return max(0, (self.now - booking.ends_at) // DAY)

    def can_pick_up(self, booking: Booking) -> bool:
        return booking.starts_at - loan.PICKUP_EARLY <= self.now < booking.ends_at

    def can_mark_no_show(self, booking: Booking) -> bool:
        return booking.starts_at <= self.now

    def pickup_of(self, booking: Booking) -> Handover | None:
        return next((h for h in self.handovers.get(booking.id, []) if h.kind is HandoverKind.PICKUP), None)


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
    horizon = local_midnight(today + timedelta(days=1 + UPCOMING_DAYS), zone)
    base = _bookings_in(codes)
    physical = Category.needs_pickup.is_(True)

    def fetch(query: Select[Booking]) -> list[Booking]:
        return list(session.scalars(query).unique())

    pickups = fetch(
        base.where(physical, Booking.status == S.APPROVED, Booking.starts_at < horizon, Booking.ends_at > now).order_by(
            Booking.starts_at
        )
    )
    out = fetch(base.where(Booking.status == S.PICKED_UP).order_by(Booking.ends_at))
    return DeskView(
        codes=codes,
        now=now,
        requests=fetch(base.where(Booking.status == S.REQUESTED).order_by(Booking.starts_at)),
        pickups_today=[b for b in pickups if b.starts_at < day_end],
        pickups_upcoming=[b for b in pickups if b.starts_at >= day_end],
        returns_today=[b for b in out if now < b.ends_at < day_end],
        out_now=[b for b in out if b.ends_at >= day_end],
        late=[b for b in out if b.ends_at <= now],
        missed=fetch(
            base.where(physical, Booking.status == S.APPROVED, Booking.ends_at <= now).order_by(Booking.ends_at)
        ),
        recent=loan.recent_by(session, ctx, codes=codes),
        handovers=loan.handovers_of(session, [b.id for b in out]),
    )
