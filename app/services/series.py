"""Bookings that repeat: every Wednesday for two months, the 2nd Wednesday of each month.

A series is planned before anything is stored: each occurrence with its status (free, a
clash with the next free slot, closed and why). Booking it books every free occurrence in
the caller's unit of work, each through `booking.create` (so each obeys every rule of a
single booking and the database's no-overlap guarantee), each in a savepoint so that one
taken meanwhile is skipped and reported rather than failing the rest. Each occurrence is a
Booking of its own linked to its BookingSeries: its iCal UID is its own and stays stable.

Times are kept on the site's wall clock: an occurrence is built from its local date and the
first occurrence's local time, then converted to UTC, so 10 h 00 stays 10 h 00 across the
clock change.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select

from app.db import DbSession, savepoint
from app.i18n import format_datetime, format_day, format_month, weekday_name
from app.models import Booking, BookingSeries, Category, Kit, Recurrence, Resource
from app.models.types import StateEnum
from app.services import audit, availability, durations, kits, pickup
from app.services import booking as booking_rules
from app.services.catalogue import ResourceFilter, search
from app.services.context import ServiceContext
from app.services.errors import Conflict, Forbidden, NotFound, RuleViolation

# A year of weekly dates: longer series are refused rather than silently cut.
MAX_OCCURRENCES = 52
# Every 12 weeks or every 12 months at most; beyond that a series is not what is meant.
MAX_INTERVAL = 12

Scope = Literal["one", "following", "all"]
SCOPES: tuple[Scope, ...] = ("one", "following", "all")


class OccurrenceStatus(StateEnum):
    FREE = "free", _l("Libre")
    CLASH = "clash", _l("Déjà pris")
    CLOSED = "closed", _l("Fermé")
    # Refused by a rule when booking (the per-member limit, for instance).
    REFUSED = "refused", _l("Refusé")


@dataclass(frozen=True)
class Slot:
    """One date of a series on the wall clock: its local day and its UTC instants."""

    day: date
    starts_at: datetime
    ends_at: datetime
    # False when the start's wall-clock time does not exist that day (spring clock change).
    exists: bool = True


@dataclass(frozen=True)
class Dates:
    slots: list[Slot]
    # Months without the first date's day (no 31 in April), skipped: the first of each such month.
    skipped: list[date] = field(default_factory=list)


@dataclass(frozen=True)
class Occurrence:
    number: int  # its place in the series, from 1
    starts_at: datetime
    ends_at: datetime
    status: OccurrenceStatus
    reason: str = ""  # why it is not free, in words
    next_free: tuple[datetime, datetime] | None = None  # for a clash: the next free slot of this length

    @property
    def is_free(self) -> bool:
        return self.status is OccurrenceStatus.FREE


class Plan(list[Occurrence]):
    """The occurrences of a series, in order, and the months it skips (said in words)."""

    def __init__(self, occurrences: list[Occurrence], skipped: list[str]) -> None:
        super().__init__(occurrences)
        self.skipped = skipped

    @property
    def free(self) -> list[Occurrence]:
        return [o for o in self if o.is_free]


@dataclass(frozen=True)
class Booked:
    """What `book` did: the series, the bookings made, and the occurrences skipped with why."""

    series: BookingSeries
    bookings: list[Booking]
    skipped: list[Occurrence]


# The dates -------------------------------------------------------------------------------------


def _on_wall_clock(day: date, at: time, zone: ZoneInfo) -> tuple[datetime, bool]:
    """The UTC instant of a local date and time, and whether that time exists that day.

    An ambiguous autumn time is read as its first occurrence, as the booking form reads it."""
    naive = datetime.combine(day, at.replace(fold=0))
    aware = naive.replace(tzinfo=zone)
    instant = aware.astimezone(UTC)
    return instant, instant.astimezone(zone).replace(tzinfo=None) == naive


def shift_wall_clock(instant: datetime, days: int, zone: ZoneInfo) -> datetime:
    """The same local time, `days` later on the calendar (a registration deadline moved with its session)."""
    local = instant.astimezone(zone)
    moved, _exists = _on_wall_clock(local.date() + timedelta(days=days), local.time(), zone)
    return moved


def _add_months(day: date, months: int) -> tuple[int, int]:
    years, month = divmod(day.month - 1 + months, 12)
    return day.year + years, month + 1


def _rank(day: date) -> int:
    """1 for the first such weekday of its month … 5 for the fifth, read as « the last »."""
    return (day.day - 1) // 7 + 1


def _nth_weekday(year: int, month: int, weekday: int, rank: int) -> date:
    days_in_month = calendar.monthrange(year, month)[1]
    if rank >= 5:
        last = date(year, month, days_in_month)
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (rank - 1))


def _days(first: date, recurrence: Recurrence, interval: int) -> Iterator[date | tuple[int, int]]:
    """The local days of the series, endlessly; a (year, month) pair for a month that has no such day."""
    step = 0
    while True:
        if recurrence is Recurrence.WEEKLY:
            yield first + timedelta(weeks=interval * step)
        else:
            year, month = _add_months(first, interval * step)
            if recurrence is Recurrence.MONTHLY_DATE:
                if first.day > calendar.monthrange(year, month)[1]:
                    yield (year, month)
                else:
                    yield date(year, month, first.day)
            else:
                yield _nth_weekday(year, month, first.weekday(), _rank(first))
        step += 1


def dates(
    ctx: ServiceContext,
    *,
    starts_at: datetime,
    ends_at: datetime,
    recurrence: Recurrence,
    interval: int = 1,
    until: date | None = None,
    count: int | None = None,
    advance_days: int | None = None,
) -> Dates:
    """Every date of a series, until a local date (included) or for a count, whichever comes
    first; at most MAX_OCCURRENCES. With `advance_days`, a date beyond that horizon from now
    refuses the series (the category's advance limit)."""
    if ends_at <= starts_at:
        raise RuleViolation(_("La fin doit venir après le début."), field="ends_at")
    if not 1 <= interval <= MAX_INTERVAL:
        raise RuleViolation(_("L'intervalle va de 1 à %(n)d (semaines ou mois).", n=MAX_INTERVAL), field="interval")
    if until is None and count is None:
        raise RuleViolation(_("Dites jusqu'à quelle date, ou combien de fois."), field="count")
    if count is not None and count < 1:
        raise RuleViolation(_("Il faut au moins une date."), field="count")
    if count is not None and count > MAX_OCCURRENCES:
        raise RuleViolation(_("Une série compte au plus %(n)d dates.", n=MAX_OCCURRENCES), field="count")
    zone = ctx.zone
    local_start, local_end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    first = local_start.date()
    if until is not None and until < first:
        raise RuleViolation(_("La série doit finir après sa première date."), field="until")
    end_offset = timedelta(days=(local_end.date() - first).days)
    horizon = ctx.now + timedelta(days=advance_days) if advance_days is not None else None
    slots: list[Slot] = []
    skipped: list[date] = []
    for day in _days(first, recurrence, interval):
        if count is not None and len(slots) == count:
            break
        if isinstance(day, tuple):
            year, month = day
            month_end = date(year, month, calendar.monthrange(year, month)[1])
            if until is not None and until <= month_end:
                break  # the missing date would have fallen after the end of the series anyway
            skipped.append(date(year, month, 1))
            continue
        if until is not None and day > until:
            break
        start, exists = _on_wall_clock(day, local_start.time(), zone)
        end, _end_exists = _on_wall_clock(day + end_offset, local_end.time(), zone)
        if horizon is not None and start > horizon:
            raise RuleViolation(
                ngettext(
                    "Trop loin : on ne réserve pas plus de %(n)d jours à l'avance (jusqu'au %(day)s) ; "
                    "%(num)d date de la série tient avant. Choisissez une fin plus proche.",
                    "Trop loin : on ne réserve pas plus de %(n)d jours à l'avance (jusqu'au %(day)s) ; "
                    "%(num)d dates de la série tiennent avant. Choisissez une fin plus proche.",
                    len(slots),
                    n=advance_days,
                    day=format_day(horizon, zone),
                ),
                field="until" if until is not None else "count",
            )
        if slots and start < slots[-1].ends_at:
            raise RuleViolation(_("Chaque date doit finir avant la suivante."), field="ends_at")
        slots.append(Slot(day=day, starts_at=start, ends_at=end, exists=exists))
        if len(slots) > MAX_OCCURRENCES:
            raise RuleViolation(
                _("Une série compte au plus %(n)d dates : choisissez une fin plus proche.", n=MAX_OCCURRENCES),
                field="until",
            )
    return Dates(slots=slots, skipped=skipped)


def describe(recurrence: Recurrence, interval: int, first: datetime, zone: ZoneInfo) -> str:
    """The rule in words: « Toutes les 2 semaines, le mercredi », « Chaque mois, le 2e mercredi »."""
    day = first.astimezone(zone).date()
    weekday = weekday_name(day.weekday())
    if recurrence is Recurrence.WEEKLY:
        return ngettext("Chaque semaine, le %(day)s", "Toutes les %(num)d semaines, le %(day)s", interval, day=weekday)
    if recurrence is Recurrence.MONTHLY_DATE:
        return ngettext("Chaque mois, le %(date)d", "Tous les %(num)d mois, le %(date)d", interval, date=day.day)
    ranks = {1: _("1er"), 2: _("2e"), 3: _("3e"), 4: _("4e")}
    rank = ranks.get(_rank(day), _("dernier"))
    return ngettext(
        "Chaque mois, le %(rank)s %(day)s",
        "Tous les %(num)d mois, le %(rank)s %(day)s",
        interval,
        rank=rank,
        day=weekday,
    )


# Planning --------------------------------------------------------------------------------------


def plan(
    session: DbSession,
    ctx: ServiceContext,
    *,
    resource: Resource,
    starts_at: datetime,
    ends_at: datetime,
    recurrence: Recurrence,
    interval: int = 1,
    until: date | None = None,
    count: int | None = None,
) -> Plan:
    """Every occurrence with its status, nothing stored. The rules of a single booking that
    hold for the whole series (not in the past, the lead time, the length, the advance limit)
    refuse the series; what depends on the date (taken, closed) is said per occurrence."""
    category = resource.category
    if resource.is_retired or category.retired_at is not None:
        raise RuleViolation(_("Cette ressource n'est plus réservable."))
    buffer = category.buffer
    found = _series_dates(
        ctx,
        starts_at=starts_at,
        ends_at=ends_at,
        recurrence=recurrence,
        interval=interval,
        until=until,
        count=count,
        advance_days=category.max_advance_days,
        lead_hours=category.min_lead_hours,
        longest_hours=category.max_duration_hours,
        too_long=_(
            "Trop long : %(duration)s au plus pour cette catégorie.",
            duration=durations.words(category.max_duration_hours),
        ),
        buffer=buffer,
    )
    busy = availability.busy_periods(session, resource, found.slots[0].starts_at, found.slots[-1].ends_at + buffer)
    occurrences = [
        _status(session, ctx, resource, number, slot, busy) for number, slot in enumerate(found.slots, start=1)
    ]
    return Plan(occurrences, _skipped_words(found))


def _series_dates(
    ctx: ServiceContext,
    *,
    starts_at: datetime,
    ends_at: datetime,
    recurrence: Recurrence,
    interval: int,
    until: date | None,
    count: int | None,
    advance_days: int,
    lead_hours: int,
    longest_hours: int,
    too_long: str,
    buffer: timedelta,
) -> Dates:
    """The dates, refused as a whole by what holds for every one: none at all, a start already
    past or inside the lead time, a date longer than allowed (`too_long` says so), dates that
    (buffer included) run into each other."""
    found = dates(
        ctx,
        starts_at=starts_at,
        ends_at=ends_at,
        recurrence=recurrence,
        interval=interval,
        until=until,
        count=count,
        advance_days=advance_days,
    )
    if not found.slots:
        raise RuleViolation(_("Aucune date dans cette période."), field="until")
    first = found.slots[0]
    if first.starts_at < ctx.now:
        raise RuleViolation(_("Ce début est déjà passé."), field="starts_at")
    if first.starts_at < ctx.now + timedelta(hours=lead_hours):
        raise RuleViolation(
            _("Trop tard : réservez au moins %(duration)s avant le début.", duration=durations.words(lead_hours)),
            field="starts_at",
        )
    if any(slot.ends_at - slot.starts_at > timedelta(hours=longest_hours) for slot in found.slots):
        raise RuleViolation(too_long, field="ends_at")
    for before, after in zip(found.slots, found.slots[1:], strict=False):
        if after.starts_at < before.ends_at + buffer:
            raise RuleViolation(
                _("Chaque date (battement de préparation compris) doit finir avant la suivante."), field="ends_at"
            )
    return found


def _skipped_words(found: Dates) -> list[str]:
    day = found.slots[0].day.day
    return [
        _("Pas de %(day)d en %(month)s : ce mois est sauté.", day=day, month=format_month(m.year, m.month))
        for m in found.skipped
    ]


def _status(
    session: DbSession,
    ctx: ServiceContext,
    resource: Resource,
    number: int,
    slot: Slot,
    busy: list[availability.BusyPeriod],
) -> Occurrence:
    start, end = slot.starts_at, slot.ends_at
    occurrence = Occurrence(number=number, starts_at=start, ends_at=end, status=OccurrenceStatus.FREE)
    if not slot.exists:
        return replace(
            occurrence,
            status=OccurrenceStatus.CLOSED,
            reason=_("Cette heure n'existe pas ce jour-là (changement d'heure)."),
        )
    clashes = [p for p in busy if p.overlaps(start, end + resource.category.buffer)]
    broken = next((p for p in clashes if p.kind == "out_of_service"), None)
    if broken is not None:
        return replace(
            occurrence,
            status=OccurrenceStatus.CLOSED,
            reason=_("Cet objet est hors service : %(reason)s.", reason=broken.reason),
        )
    blackout = next((p for p in clashes if p.kind == "blackout"), None)
    if blackout is not None:
        return replace(
            occurrence,
            status=OccurrenceStatus.CLOSED,
            reason=_("Fermé à ces dates : %(reason)s.", reason=blackout.reason),
        )
    try:
        pickup.check_hours(ctx, resource, start, end, override=False)
    except RuleViolation as outside:
        return replace(occurrence, status=OccurrenceStatus.CLOSED, reason=outside.message)
    if not clashes:
        return occurrence
    reason = _("Déjà réservé sur cette période (battement de préparation compris).")
    duration = end - start
    free = booking_rules.next_slot(session, ctx, resource, duration=duration, after=max(start, ctx.now))
    if free is None:
        return replace(occurrence, status=OccurrenceStatus.CLASH, reason=reason)
    reason += " " + _("Prochain créneau libre de cette durée : %(when)s.", when=format_datetime(free, ctx.zone))
    return replace(occurrence, status=OccurrenceStatus.CLASH, reason=reason, next_free=(free, free + duration))


# Booking ---------------------------------------------------------------------------------------


def book(
    session: DbSession,
    ctx: ServiceContext,
    *,
    resource: Resource,
    starts_at: datetime,
    ends_at: datetime,
    recurrence: Recurrence,
    interval: int = 1,
    until: date | None = None,
    count: int | None = None,
    purpose: str,
) -> Booked:
    """Book every free occurrence, in the caller's unit of work; at least one, or nothing."""
    actor = ctx.user
    planned = plan(
        session,
        ctx,
        resource=resource,
        starts_at=starts_at,
        ends_at=ends_at,
        recurrence=recurrence,
        interval=interval,
        until=until,
        count=count,
    )
    return _book_free_dates(
        session,
        ctx,
        planned,
        BookingSeries(
            user_id=actor.id,
            resource_id=resource.id,
            recurrence=recurrence,
            interval=interval,
            until_date=until,
            occurrences=count,
            purpose=purpose.strip(),
            created_at=ctx.now,
        ),
        lambda occurrence: [
            booking_rules.create(
                session,
                ctx,
                resource=resource,
                starts_at=occurrence.starts_at,
                ends_at=occurrence.ends_at,
                purpose=purpose,
            )
        ],
    )


def _book_free_dates(
    session: DbSession,
    ctx: ServiceContext,
    planned: Plan,
    series: BookingSeries,
    book_one: Callable[[Occurrence], list[Booking]],
    noted_as: str = "",
) -> Booked:
    """Store the series and book each free date with `book_one` (its bookings linked to the
    series), each in a savepoint: a date taken or refused since the plan was read is skipped
    and reported; at least one date is booked, or nothing at all."""
    nothing = _("Aucune date de la série n'est libre : rien n'a été réservé.")
    if not planned.free:
        raise RuleViolation(nothing)
    session.add(series)
    session.flush()
    made: list[Booking] = []
    dates_made = 0
    skipped = [o for o in planned if not o.is_free]
    for occurrence in planned.free:
        try:
            with savepoint(session):
                items = book_one(occurrence)
                for item in items:
                    # Not `touch`: the hosts' emailed answer links are bound to the booking's sequence.
                    item.series_id = series.id
                session.flush()
        except Conflict as taken:  # taken by someone else since the plan was read
            skipped.append(
                replace(occurrence, status=OccurrenceStatus.CLASH, reason=taken.message, next_free=taken.suggestion)
            )
            continue
        except RuleViolation as refused:
            skipped.append(replace(occurrence, status=OccurrenceStatus.REFUSED, reason=refused.message))
            continue
        made.extend(items)
        dates_made += 1
    if not made:
        raise RuleViolation(nothing)
    audit.record(
        session,
        ctx,
        subject_type="booking_series",
        subject_id=series.id,
        action="create",
        note=f"{noted_as}{dates_made}/{len(planned)}",
    )
    return Booked(series=series, bookings=made, skipped=sorted(skipped, key=lambda o: o.number))


# Kits ------------------------------------------------------------------------------------------


class _Undo(Exception):
    """Raised inside a savepoint to undo a kit booking that was only tried."""


def _kit_categories(kit: Kit) -> list[Category]:
    found: dict[int, Category] = {}
    for line in kit.lines:
        category = line.resource.category if line.resource is not None else line.category
        if category is not None:
            found[category.id] = category
    return list(found.values())


def _kit_line_units(session: DbSession, kit: Kit) -> list[list[Resource]]:
    """Per line, the units that may fill it (a named item is never one of a category's units)."""
    named = {line.resource_id for line in kit.lines if line.resource_id is not None}
    units: list[list[Resource]] = []
    for line in kit.lines:
        if line.resource is not None:
            units.append([line.resource])
            continue
        found = session.scalars(
            search(session, ResourceFilter(category_id=line.category_id, departement_code=kit.departement_code))
        ).unique()
        units.append([u for u in found if u.id not in named])
    return units


def plan_kit(
    session: DbSession,
    ctx: ServiceContext,
    *,
    kit: Kit,
    starts_at: datetime,
    ends_at: datetime,
    recurrence: Recurrence,
    interval: int = 1,
    until: date | None = None,
    count: int | None = None,
) -> Plan:
    """Every date of a kit series with its status, nothing stored. A date is free when the
    whole kit can be booked then: it is booked for real in a savepoint that is rolled back,
    so the answer is exactly `kits.book`'s (units nearest first, hours, every rule)."""
    if kit.retired_at is not None:
        raise RuleViolation(_("Ce kit n'est plus proposé."))
    categories = _kit_categories(kit)
    if not categories:
        raise RuleViolation(_("Ce kit est vide."))
    # The strictest of the kit's categories holds for the whole series.
    longest = min(c.max_duration_hours for c in categories)
    found = _series_dates(
        ctx,
        starts_at=starts_at,
        ends_at=ends_at,
        recurrence=recurrence,
        interval=interval,
        until=until,
        count=count,
        advance_days=min(c.max_advance_days for c in categories),
        lead_hours=max(c.min_lead_hours for c in categories),
        longest_hours=longest,
        too_long=_("Trop long : %(duration)s au plus pour ce kit.", duration=durations.words(longest)),
        buffer=max(c.buffer for c in categories),
    )
    units = _kit_line_units(session, kit)
    occurrences = [_kit_status(session, ctx, kit, units, number, slot) for number, slot in enumerate(found.slots, 1)]
    return Plan(occurrences, _skipped_words(found))


def _kit_status(
    session: DbSession, ctx: ServiceContext, kit: Kit, units: list[list[Resource]], number: int, slot: Slot
) -> Occurrence:
    start, end = slot.starts_at, slot.ends_at
    occurrence = Occurrence(number=number, starts_at=start, ends_at=end, status=OccurrenceStatus.FREE)
    if not slot.exists:
        return replace(
            occurrence,
            status=OccurrenceStatus.CLOSED,
            reason=_("Cette heure n'existe pas ce jour-là (changement d'heure)."),
        )
    try:
        with savepoint(session):
            kits.book(session, ctx, kit=kit, starts_at=start, ends_at=end, purpose="")
            raise _Undo
    except _Undo:
        return occurrence
    except Conflict as taken:
        closed = _every_unit_closed(session, ctx, units, number, slot)
        if closed is not None:
            return closed
        return replace(occurrence, status=OccurrenceStatus.CLASH, reason=taken.message, next_free=taken.suggestion)
    except RuleViolation as refused:
        return replace(occurrence, status=OccurrenceStatus.REFUSED, reason=refused.message)


def _every_unit_closed(
    session: DbSession, ctx: ServiceContext, units: list[list[Resource]], number: int, slot: Slot
) -> Occurrence | None:
    """CLOSED when, for one line, every unit is closed then (out of service, a blackout, its
    point shut): as for a single item, another member's booking would not be the reason."""
    for line_units in units:
        statuses = []
        for unit in line_units:
            buffer = unit.category.buffer
            busy = availability.busy_periods(session, unit, slot.starts_at, slot.ends_at + buffer)
            statuses.append(_status(session, ctx, unit, number, slot, busy))
        if statuses and all(s.status is OccurrenceStatus.CLOSED for s in statuses):
            return statuses[0]
    return None


def book_kit(
    session: DbSession,
    ctx: ServiceContext,
    *,
    kit: Kit,
    starts_at: datetime,
    ends_at: datetime,
    recurrence: Recurrence,
    interval: int = 1,
    until: date | None = None,
    count: int | None = None,
    purpose: str,
) -> Booked:
    """Book the whole kit on every free date, in the caller's unit of work: each date all or
    nothing (`kits.book`), at least one date, or nothing at all."""
    actor = ctx.user
    planned = plan_kit(
        session,
        ctx,
        kit=kit,
        starts_at=starts_at,
        ends_at=ends_at,
        recurrence=recurrence,
        interval=interval,
        until=until,
        count=count,
    )
    return _book_free_dates(
        session,
        ctx,
        planned,
        BookingSeries(
            user_id=actor.id,
            resource_id=None,
            recurrence=recurrence,
            interval=interval,
            until_date=until,
            occurrences=count,
            purpose=purpose.strip(),
            created_at=ctx.now,
        ),
        lambda occurrence: kits.bookings_of(
            session,
            kits.book(
                session, ctx, kit=kit, starts_at=occurrence.starts_at, ends_at=occurrence.ends_at, purpose=purpose
            ),
        ),
        noted_as=f"kit {kit.id}: ",
    )


# Reading and cancelling ------------------------------------------------------------------------


def get(session: DbSession, series_id: int) -> BookingSeries:
    found = session.get(BookingSeries, series_id)
    if found is None:
        raise NotFound(_("Cette série n'existe pas."))
    return found


def bookings_of(session: DbSession, series_id: int) -> list[Booking]:
    return list(
        session.scalars(select(Booking).where(Booking.series_id == series_id).order_by(Booking.starts_at)).unique()
    )


def visible(session: DbSession, ctx: ServiceContext, series_id: int) -> BookingSeries:
    """A series' page: for its holder, the hosts of its resources and admins only."""
    found = get(session, series_id)
    actor = ctx.user
    if actor.id != found.user_id and not any(
        booking_rules.can_manage(actor, b.resource) for b in bookings_of(session, found.id)
    ):
        raise Forbidden(_("Ce n'est pas votre réservation."))
    return found


def can_cancel(booking: Booking, now: datetime) -> bool:
    return booking.can("cancel") and not booking_rules.is_over(booking, now)


def cancel(
    session: DbSession, ctx: ServiceContext, *, booking: Booking, scope: str, reason: str | None = None
) -> list[Booking]:
    """Cancel this occurrence, this one and the following, or the whole series; finished or
    already cancelled occurrences are left as they are. Returns the bookings cancelled."""
    if scope not in SCOPES:
        raise RuleViolation(_("Annuler quoi : celle-ci, celle-ci et les suivantes, ou toute la série ?"))
    # Asked first, so that nobody else learns anything from a series with nothing left to cancel.
    if not booking_rules.can_see_details(ctx.user, booking):
        raise Forbidden(_("Ce n'est pas votre réservation."))
    if booking.kit_booking_id is not None:
        return _cancel_kits(session, ctx, booking=booking, scope=scope, reason=reason)
    if scope == "one":
        return [booking_rules.cancel(session, ctx, booking=booking, reason=reason)]
    if booking.series_id is None:
        raise RuleViolation(_("Cette réservation ne fait pas partie d'une série."))
    targets = [
        b
        for b in bookings_of(session, booking.series_id)
        if (scope == "all" or b.starts_at >= booking.starts_at) and can_cancel(b, ctx.now)
    ]
    if not targets:
        raise Conflict(_("Plus rien à annuler : ces dates sont terminées ou déjà annulées."))
    return [booking_rules.cancel(session, ctx, booking=b, reason=reason) for b in targets]


def _cancel_kits(
    session: DbSession, ctx: ServiceContext, *, booking: Booking, scope: str, reason: str | None
) -> list[Booking]:
    """A date of a kit series is its whole kit: each scope cancels whole kits (`kits.cancel`),
    leaving the kits of its dates that are over, cancelled, or already picked up."""
    assert booking.kit_booking_id is not None
    if scope == "one":
        return kits.cancel(session, ctx, kit_booking=kits.get_booking(session, booking.kit_booking_id), reason=reason)
    if booking.series_id is None:
        raise RuleViolation(_("Cette réservation ne fait pas partie d'une série."))
    by_kit: dict[int, list[Booking]] = {}
    for item in bookings_of(session, booking.series_id):
        if item.kit_booking_id is not None and (scope == "all" or item.starts_at >= booking.starts_at):
            by_kit.setdefault(item.kit_booking_id, []).append(item)
    targets = [
        kit_booking_id
        for kit_booking_id, items in sorted(by_kit.items(), key=lambda pair: (pair[1][0].starts_at, pair[0]))
        if any(can_cancel(b, ctx.now) for b in items)
        and all(can_cancel(b, ctx.now) for b in items if b.is_holding and not booking_rules.is_over(b, ctx.now))
    ]
    if not targets:
        raise Conflict(_("Plus rien à annuler : ces dates sont terminées ou déjà annulées."))
    done: list[Booking] = []
    for kit_booking_id in targets:
        done.extend(kits.cancel(session, ctx, kit_booking=kits.get_booking(session, kit_booking_id), reason=reason))
    return done
