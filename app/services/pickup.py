"""Pickup points: where a host keeps items, and when they can be picked up and brought back.

Physical items are handed over at their pickup point, within its weekly opening hours and
not on its closing days; a point with no hours recorded works by appointment with the host
(nothing is refused). Online accounts have no pickup point.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import and_, or_, select

from app.db import DbSession
from app.i18n import format_day, format_time, weekday_name
from app.models import Booking, ClosingDay, OpeningHours, PickupPoint, Resource, User
from app.services import audit
from app.services.context import ServiceContext
from app.services.errors import Conflict, Forbidden, NotFound, RuleViolation

# Where hours are not recorded, suggested slots still fall in the day rather than at 6 h 00
# or 23 h 59: they are proposals to people, not rules.
SUGGESTION_DAY = (time(9, 0), time(18, 0))
SUGGESTION_STEP = timedelta(minutes=15)
# How far ahead opening hours are searched before giving up.
SEARCH_DAYS = 400


@dataclass(frozen=True)
class Span:
    weekday: int
    opens_at: time
    closes_at: time


def get(session: DbSession, point_id: int) -> PickupPoint:
    point = session.get(PickupPoint, point_id)
    if point is None:
        raise NotFound(_("Ce lieu de retrait n'existe pas."))
    return point


def of_departement(session: DbSession, code: str) -> list[PickupPoint]:
    return list(
        session.scalars(select(PickupPoint).where(PickupPoint.departement_code == code).order_by(PickupPoint.id))
    )


def store_of(session: DbSession, code: str) -> PickupPoint | None:
    """The département's store: its first pickup point (made by migration 0008)."""
    return session.scalar(select(PickupPoint).where(PickupPoint.departement_code == code).order_by(PickupPoint.id))


def can_edit(actor: User | None, point: PickupPoint) -> bool:
    return actor is not None and (actor.is_admin or actor.hosts(point.departement_code))


def add_point(session: DbSession, ctx: ServiceContext, *, departement_code: str, name: str) -> PickupPoint:
    """Another place a host keeps items (a partner's premises, a second store), in their département."""
    actor = ctx.user
    if not (actor.is_admin or actor.hosts(departement_code)):
        raise Forbidden(_("Seuls les hôtes de ce département modifient ce lieu de retrait."))
    if not name.strip():
        raise RuleViolation(_("Donnez un nom à ce lieu."), field="name")
    point = PickupPoint(
        departement_code=departement_code, name=name.strip(), address="", access_notes="", phone="", email=""
    )
    session.add(point)
    session.flush()
    audit.record(session, ctx, subject_type="pickup_point", subject_id=point.id, action="create", note=point.name)
    return point


def _require_editor(ctx: ServiceContext, point: PickupPoint) -> None:
    if not can_edit(ctx.user, point):
        raise Forbidden(_("Seuls les hôtes de ce département modifient ce lieu de retrait."))


# When it is open ---------------------------------------------------------------------------------


def _spans_of(point: PickupPoint, day: date) -> list[tuple[time, time]]:
    if any(closed.day == day for closed in point.closing_days):
        return []
    return sorted((h.opens_at, h.closes_at) for h in point.hours if h.weekday == day.weekday())


def open_spans(point: PickupPoint, start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """When the point is open within [start, end): its weekly hours less its closing days, clipped."""
    spans = []
    day = start.astimezone(zone).date()
    while datetime.combine(day, time.min, tzinfo=zone) < end:
        for opens_at, closes_at in _spans_of(point, day):
            opens = datetime.combine(day, opens_at, tzinfo=zone)
            closes = datetime.combine(day, closes_at, tzinfo=zone)
            if opens < end and closes > start:
                spans.append((max(opens, start), min(closes, end)))
        day += timedelta(days=1)
    return spans


def has_hours(point: PickupPoint | None) -> bool:
    return point is not None and bool(point.hours)


def is_open_at(point: PickupPoint, instant: datetime, zone: ZoneInfo) -> bool:
    """Open at this instant (a span's closing minute included: one may come at 17 h 00)."""
    if not point.hours:
        return True
    local = instant.astimezone(zone)
    moment = local.time().replace(tzinfo=None)
    return any(opens <= moment <= closes for opens, closes in _spans_of(point, local.date()))


def next_opening(point: PickupPoint, after: datetime, zone: ZoneInfo, *, strictly: bool = False) -> datetime | None:
    """The first instant at or after `after` when the point is open (the start of a span, or
    `after` itself inside one); with `strictly`, the start of the next span after `after`."""
    local = after.astimezone(zone)
    for offset in range(SEARCH_DAYS):
        day = local.date() + timedelta(days=offset)
        for opens, closes in _spans_of(point, day):
            start = datetime.combine(day, opens, tzinfo=zone)
            end = datetime.combine(day, closes, tzinfo=zone)
            if strictly:
                if start > after:
                    return start.astimezone(after.tzinfo)
            elif end >= after:
                return max(start, after.astimezone(zone)).astimezone(after.tzinfo)
    return None


def describe(point: PickupPoint) -> list[str]:
    """The week's hours in words, a line per open day: « lundi : 9 h 00 – 12 h 00, 14 h 00 – 17 h 00 »."""
    lines = []
    for weekday in range(7):
        spans = sorted((h.opens_at, h.closes_at) for h in point.hours if h.weekday == weekday)
        if spans:
            parts = [f"{_clock(opens)} – {_clock(closes)}" for opens, closes in spans]
            lines.append(_("%(day)s : %(hours)s", day=weekday_name(weekday), hours=", ".join(parts)))
    return lines


def _clock(value: time) -> str:
    return format_time(datetime(2024, 1, 1, value.hour, value.minute, tzinfo=ZoneInfo("UTC")), ZoneInfo("UTC"))


def check_hours(
    ctx: ServiceContext, resource: Resource, starts_at: datetime, ends_at: datetime, *, override: bool
) -> None:
    """Pickup (the start) and return (the end) of a physical item fall within its point's hours.

    A host may override for one booking; accounts have no pickup point."""
    point = resource.pickup_point
    if override or not resource.category.needs_pickup or point is None or not point.hours:
        return
    hours = "; ".join(describe(point))
    for field, instant, what in (("starts_at", starts_at, _("Le retrait")), ("ends_at", ends_at, _("Le retour"))):
        if not is_open_at(point, instant, ctx.zone):
            closed_day = next((c for c in point.closing_days if c.day == instant.astimezone(ctx.zone).date()), None)
            if closed_day is not None:
                message = _(
                    "%(what)s tombe un jour de fermeture de %(place)s (%(reason)s).",
                    what=what,
                    place=point.name,
                    reason=closed_day.reason or format_day(closed_day.day),
                )
            else:
                message = _(
                    "%(what)s doit tomber pendant les heures d'ouverture de %(place)s : %(hours)s.",
                    what=what,
                    place=point.name,
                    hours=hours,
                )
            raise RuleViolation(message, field=field)


def suggest(point: PickupPoint | None, resource: Resource, start: datetime, zone: ZoneInfo) -> datetime | None:
    """A start a person would choose at or after `start`: within opening hours where the item
    has them, else on a quarter hour in the day (never 6 h 00 or 23 h 59)."""
    if resource.category.needs_pickup and has_hours(point):
        assert point is not None
        return next_opening(point, _round_up(start), zone)
    local = _round_up(start).astimezone(zone)
    opens, closes = SUGGESTION_DAY
    if local.time() < opens:
        local = local.replace(hour=opens.hour, minute=opens.minute)
    elif local.time() > closes:
        local = datetime.combine(local.date() + timedelta(days=1), opens, tzinfo=zone)
    return local.astimezone(start.tzinfo)


def _round_up(instant: datetime) -> datetime:
    step = int(SUGGESTION_STEP.total_seconds())
    seconds = int(instant.timestamp())
    rounded = -(-seconds // step) * step
    return datetime.fromtimestamp(rounded, tz=instant.tzinfo)


def fits(point: PickupPoint | None, resource: Resource, start: datetime, end: datetime, zone: ZoneInfo) -> bool:
    if not (resource.category.needs_pickup and has_hours(point)):
        return True
    assert point is not None
    return is_open_at(point, start, zone) and is_open_at(point, end, zone)


# Editing ----------------------------------------------------------------------------------------


def save(
    session: DbSession,
    ctx: ServiceContext,
    *,
    point: PickupPoint,
    name: str,
    address: str,
    access_notes: str,
    phone: str,
    email: str,
) -> PickupPoint:
    _require_editor(ctx, point)
    if not name.strip():
        raise RuleViolation(_("Donnez un nom à ce lieu."), field="name")
    point.name, point.address, point.access_notes = name.strip(), address.strip(), access_notes.strip()
    point.phone, point.email = phone.strip(), email.strip()
    session.flush()
    audit.record(session, ctx, subject_type="pickup_point", subject_id=point.id, action="update")
    return point


def set_hours(session: DbSession, ctx: ServiceContext, *, point: PickupPoint, spans: Iterable[Span]) -> None:
    """Replace the week's hours; spans of one day may not overlap."""
    _require_editor(ctx, point)
    spans = sorted(spans, key=lambda s: (s.weekday, s.opens_at))
    for span in spans:
        if not 0 <= span.weekday <= 6:
            raise RuleViolation(_("Jour de la semaine inconnu."), field="hours")
        if span.closes_at <= span.opens_at:
            raise RuleViolation(_("Une plage horaire doit finir après son début."), field="hours")
    for before, after in zip(spans, spans[1:], strict=False):
        if before.weekday == after.weekday and after.opens_at < before.closes_at:
            raise RuleViolation(_("Deux plages horaires d'un même jour se chevauchent."), field="hours")
    point.hours.clear()
    session.flush()
    point.hours.extend(OpeningHours(weekday=s.weekday, opens_at=s.opens_at, closes_at=s.closes_at) for s in spans)
    session.flush()
    audit.record(
        session, ctx, subject_type="pickup_point", subject_id=point.id, action="hours", note="; ".join(describe(point))
    )


def add_closing_day(session: DbSession, ctx: ServiceContext, *, point: PickupPoint, day: date, reason: str) -> None:
    _require_editor(ctx, point)
    if day < ctx.now.astimezone(ctx.zone).date():
        raise RuleViolation(_("Ce jour est déjà passé."), field="day")
    if any(c.day == day for c in point.closing_days):
        raise Conflict(_("Ce jour est déjà fermé."), field="day")
    due = handovers_on(session, point, day, ctx.zone)
    if due:
        # As for a closure of the store: the host deals with these people first.
        names = "; ".join(_("%(who)s, %(item)s", who=b.user.display_name, item=b.resource.name) for b in due[:5])
        raise Conflict(
            ngettext(
                "%(num)d retrait ou retour est prévu ce jour-là (%(names)s) : changez-le avec la personne d'abord.",
                "%(num)d retraits ou retours sont prévus ce jour-là (%(names)s) : "
                "changez-les avec les personnes d'abord.",
                len(due),
                names=names,
            ),
            field="day",
        )
    point.closing_days.append(ClosingDay(day=day, reason=reason.strip()))
    session.flush()
    audit.record(session, ctx, subject_type="pickup_point", subject_id=point.id, action="closing-day", note=str(day))


def handovers_on(session: DbSession, point: PickupPoint, day: date, zone: ZoneInfo) -> list[Booking]:
    """Holding bookings of the point's items that start or end on that local day."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = start + timedelta(days=1)
    found = session.scalars(
        select(Booking)
        .join(Resource, Resource.id == Booking.resource_id)
        .where(
            Resource.pickup_point_id == point.id,
            Booking.is_holding,
            or_(
                and_(Booking.starts_at >= start, Booking.starts_at < end),
                and_(Booking.ends_at >= start, Booking.ends_at < end),
            ),
        )
        .order_by(Booking.starts_at)
    )
    return list(found.unique())


def remove_closing_day(session: DbSession, ctx: ServiceContext, *, point: PickupPoint, closing_day_id: int) -> None:
    _require_editor(ctx, point)
    found = next((c for c in point.closing_days if c.id == closing_day_id), None)
    if found is None:
        raise NotFound(_("Ce jour de fermeture n'existe pas."))
    point.closing_days.remove(found)
    session.flush()
    audit.record(
        session,
        ctx,
        subject_type="pickup_point",
        subject_id=point.id,
        action="closing-day-removed",
        note=str(found.day),
    )
    from app.services import waitlist  # it builds on the booking services, which read this module

    kept = session.scalars(select(Resource).where(Resource.pickup_point_id == point.id)).unique()
    waitlist.offer_freed(session, ctx, resources=list(kept))
