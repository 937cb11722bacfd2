"""The tick: every reminder due at `now`, written to the outbox under a unique key.

Reminders are derived from the database at each tick, never stored as scheduler jobs: a
restart loses nothing, and running the tick twice (or in two processes) writes nothing
twice, because each key is unique. Keys carry the date they are about, so that a booking
moved to another day is reminded again.

A tick has three steps, so that the write lock is held only for the inserts (app.jobs):
`due` finds what is due (reads), `drafts` leaves out the keys already written and renders
the rest, `write` adds the rows inside the caller's unit of work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import ColumnElement, select

from app.db import DbSession
from app.models import (
    Booking,
    BookingStatus,
    Category,
    Enrolment,
    EnrolmentStatus,
    Resource,
    Role,
    TrainingSession,
    User,
    UserRole,
)
from app.models.people import host_departements
from app.services import feeds, ical, notify, outbox
from app.services.calendar import local_midnight
from app.services.context import ServiceContext

S = BookingStatus
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
DIGEST_AT = time(7, 30)
# A late tick (a restart) still sends the day's digest in the morning; in the afternoon it
# would only be noise. Hosts are looked up only in this window.
DIGEST_UNTIL = time(12, 0)
OVERDUE_EVERY = 3  # days between overdue reminders, after the first on day 1

# Kinds a person may turn off on their profile. Overdue returns are an obligation: always sent.
OPTIONAL_KINDS = {
    "pickup": _l("La veille d'un retrait"),
    "return": _l("La veille d'un retour"),
    "account": _l("Une heure avant une réservation de compte en ligne"),
    "training": _l("La veille et une heure avant une formation"),
    "digest": _l("Hôtes : le point du jour à 7 h 30 (retraits et retours)"),
}
# Sent only to the hosts of a département: nobody else is offered the choice.
HOST_ONLY_KINDS = frozenset({"digest"})


def optional_kinds_for(user: User) -> dict[str, Any]:
    """The reminders this person may turn off: the host's digest only for hosts."""
    return {kind: label for kind, label in OPTIONAL_KINDS.items() if user.is_host or kind not in HOST_ONLY_KINDS}


@dataclass(frozen=True)
class Due:
    """One reminder to write, not yet rendered: its key, its reader, and what to render."""

    key: str
    user: User
    subject: Any
    template: str
    values: dict[str, Any] = field(default_factory=dict)
    ics: Callable[[], str] | None = None


def _stamp(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H%M")


def _booking_ics(booking: Booking, domain: str) -> str:
    return ical.calendar(booking.resource.name, feeds.booking_items(booking, domain)).decode()


def _bookings(session: DbSession, *conditions: ColumnElement[bool]) -> list[Booking]:
    query = (
        select(Booking)
        .join(Resource, Resource.id == Booking.resource_id)
        .join(Category, Category.id == Resource.category_id)
        .where(*conditions)
    )
    return list(session.scalars(query).unique())


def due(session: DbSession, ctx: ServiceContext) -> list[Due]:
    """Every reminder due at ctx.now, written or not yet: reads only."""
    return [
        *_booking_reminders(session, ctx),
        *_overdue(session, ctx),
        *_trainings(session, ctx),
        *_host_digests(session, ctx),
    ]


def drafts(session: DbSession, ctx: ServiceContext, *, due: list[Due]) -> list[outbox.Draft]:
    """The reminders not written yet, rendered in each reader's language (reads only)."""
    written = outbox.existing_keys(session, {d.key for d in due})
    result = []
    for item in due:
        if item.key in written:
            continue
        result.append(
            notify.draft(
                ctx,
                key=item.key,
                user=item.user,
                subject=item.subject,
                template=item.template,
                ics=item.ics,
                **item.values,
            )
        )
        written.add(item.key)  # one email per key, even if two rules offer it
    return result


def write(session: DbSession, ctx: ServiceContext, *, drafts: list[outbox.Draft]) -> int:
    """Add the rendered reminders, inside the caller's unit of work; keys written meanwhile are skipped."""
    return sum(outbox.queue_draft(session, ctx, draft=draft) for draft in drafts)


@dataclass(frozen=True)
class BookingReminder:
    """One kind of reminder about a booking: whom it concerns, when, and what it says."""

    kind: str  # what the person may turn off (OPTIONAL_KINDS)
    name: str  # the key's word
    template: str
    subject: Callable[[Booking], object]
    moment: Callable[[Booking], datetime]  # the instant it is about, part of its key
    conditions: Callable[[datetime], tuple[ColumnElement[bool], ...]]


BOOKING_REMINDERS = (
    BookingReminder(
        kind="pickup",
        name="pickup-reminder",
        template="reminder_pickup",
        subject=lambda b: _l("Demain : retrait de %(name)s", name=b.resource.name),
        moment=lambda b: b.starts_at,
        conditions=lambda now: (
            Booking.status == S.APPROVED,
            Category.needs_pickup.is_(True),
            Booking.starts_at > now,
            Booking.starts_at <= now + DAY,
        ),
    ),
    BookingReminder(
        kind="return",
        name="return-reminder",
        template="reminder_return",
        subject=lambda b: _l("Demain : retour de %(name)s", name=b.resource.name),
        moment=lambda b: b.ends_at,
        conditions=lambda now: (
            Booking.status == S.PICKED_UP,
            Booking.ends_at > now,
            Booking.ends_at <= now + DAY,
        ),
    ),
    BookingReminder(
        kind="account",
        name="account-soon",
        template="reminder_account",
        subject=lambda b: _l("Dans une heure : %(name)s", name=b.resource.name),
        moment=lambda b: b.starts_at,
        conditions=lambda now: (
            Booking.status == S.APPROVED,
            Category.needs_pickup.is_(False),
            Booking.starts_at > now,
            Booking.starts_at <= now + HOUR,
        ),
    ),
)


def _booking_ics_of(booking: Booking, domain: str) -> Callable[[], str]:
    return lambda: _booking_ics(booking, domain)


def _booking_reminders(session: DbSession, ctx: ServiceContext) -> list[Due]:
    found = []
    for reminder in BOOKING_REMINDERS:
        for booking in _bookings(session, *reminder.conditions(ctx.now)):
            if booking.user.wants(reminder.kind):
                found.append(
                    Due(
                        key=f"booking:{booking.id}:{reminder.name}:{_stamp(reminder.moment(booking))}",
                        user=booking.user,
                        subject=reminder.subject(booking),
                        template=reminder.template,
                        values={"booking": booking},
                        ics=_booking_ics_of(booking, ctx.site_domain),
                    )
                )
    return found


def _overdue(session: DbSession, ctx: ServiceContext) -> list[Due]:
    """Day 1 of lateness, then every three days; the hosts get a copy. Cannot be turned off."""
    now = ctx.now
    found = []
    for booking in _bookings(session, Booking.status == S.PICKED_UP, Booking.ends_at <= now - DAY):
        days_late = (now - booking.ends_at) // DAY
        round_ = (days_late - 1) // OVERDUE_EVERY
        key = f"booking:{booking.id}:overdue:{_stamp(booking.ends_at)}:{round_}"
        subject = _l("Retour en retard : %(name)s", name=booking.resource.name)
        values = {"booking": booking, "days_late": days_late}
        found.append(Due(key=key, user=booking.user, subject=subject, template="reminder_overdue", values=values))
        found += [
            Due(
                key=f"{key}:to-host:{host.id}",
                user=host,
                subject=subject,
                template="reminder_overdue_host",
                values=values,
            )
            for host in booking.resource.hosts
        ]
    return found


def _enrolment_ics_of(enrolment: Enrolment, domain: str) -> Callable[[], str]:
    return lambda: ical.calendar(enrolment.session.title, [feeds.enrolment_item(enrolment, domain)]).decode()


def _trainings(session: DbSession, ctx: ServiceContext) -> list[Due]:
    now = ctx.now
    enrolments = session.scalars(
        select(Enrolment)
        .join(TrainingSession, TrainingSession.id == Enrolment.session_id)
        .where(
            Enrolment.status == EnrolmentStatus.REGISTERED,
            TrainingSession.cancelled_at.is_(None),
            TrainingSession.starts_at > now,
            TrainingSession.starts_at <= now + DAY,
        )
    ).unique()
    found = []
    for enrolment in enrolments:
        if not enrolment.user.wants("training"):
            continue
        training = enrolment.session
        soon = training.starts_at <= now + HOUR
        found.append(
            Due(
                key=f"enrolment:{enrolment.id}:{'soon' if soon else 'tomorrow'}:{_stamp(training.starts_at)}",
                user=enrolment.user,
                subject=(
                    _l("Dans une heure : %(title)s", title=training.title)
                    if soon
                    else _l("Demain : %(title)s", title=training.title)
                ),
                template="reminder_training",
                values={"training": training},
                ics=_enrolment_ics_of(enrolment, ctx.site_domain),
            )
        )
    return found


def digest_is_due(ctx: ServiceContext) -> bool:
    """From 07:30 to noon, the site's time: the only ticks that look for hosts."""
    return DIGEST_AT <= ctx.now.astimezone(ctx.zone).time() < DIGEST_UNTIL


def _host_digests(session: DbSession, ctx: ServiceContext) -> list[Due]:
    """At 07:30 local time, one email per host listing the day's pickups and returns."""
    if not digest_is_due(ctx):
        return []
    zone = ctx.zone
    today = ctx.now.astimezone(zone).date()
    day_start = local_midnight(today, zone)
    day_end = local_midnight(today + DAY, zone)
    pickups = _bookings(
        session,
        Booking.status == S.APPROVED,
        Category.needs_pickup.is_(True),
        Booking.starts_at >= day_start,
        Booking.starts_at < day_end,
    )
    returns = _bookings(session, Booking.status == S.PICKED_UP, Booking.ends_at >= day_start, Booking.ends_at < day_end)
    codes = {b.resource.departement_code for b in (*pickups, *returns)}
    if not codes:
        return []
    # Only the active hosts of the départements concerned, not every person.
    hosting = select(host_departements.c.user_id).where(host_departements.c.departement_code.in_(codes))
    hosts = session.scalars(
        select(User)
        .where(User.active.is_(True), User.id.in_(hosting), User.role_rows.any(UserRole.role == Role.HOST))
        .order_by(User.id)
    )
    found = []
    for host in hosts:
        mine = host.host_codes
        if not host.wants("digest"):
            continue
        mine_out = [b for b in pickups if b.resource.departement_code in mine]
        mine_back = [b for b in returns if b.resource.departement_code in mine]
        found.append(
            Due(
                key=f"host:{host.id}:digest:{today.isoformat()}",
                user=host,
                subject=_l(
                    "Aujourd'hui au guichet : %(pickups)s, %(returns)s",
                    pickups=lazy_ngettext("%(num)d retrait", "%(num)d retraits", len(mine_out)),
                    returns=lazy_ngettext("%(num)d retour", "%(num)d retours", len(mine_back)),
                ),
                template="host_digest",
                values={"pickups": mine_out, "returns": mine_back},
            )
        )
    return found
