"""The tick: every reminder due at `now`, written to the outbox under a unique key.

Reminders are derived from the database at each tick, never stored as scheduler jobs: a
restart loses nothing, and running the tick twice (or in two processes) writes nothing
twice, because each key is unique. Keys carry the date they are about, so that a booking
moved to another day is reminded again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import write_transaction
from app.models import Booking, BookingStatus, Category, Enrolment, EnrolmentStatus, Resource, TrainingSession, User
from app.services import feeds, ical, notify
from app.services.calendar import local_midnight

S = BookingStatus
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
DIGEST_AT = time(7, 30)
OVERDUE_EVERY = 3  # days between overdue reminders, after the first on day 1

# Kinds a person may turn off on their profile. Overdue returns are an obligation: always sent.
OPTIONAL_KINDS = {
    "pickup": _l("La veille d'un retrait"),
    "return": _l("La veille d'un retour"),
    "account": _l("Une heure avant une réservation de compte en ligne"),
    "training": _l("La veille et une heure avant une formation"),
    "digest": _l("Hôtes : le point du jour à 7 h 30 (retraits et retours)"),
}


def _stamp(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H%M")


def _booking_ics(booking: Booking, domain: str) -> str:
    return ical.calendar(booking.resource.name, feeds.booking_items(booking, domain)).decode()


def _bookings(session: Session, *conditions) -> list[Booking]:
    query = (
        select(Booking)
        .join(Resource, Resource.id == Booking.resource_id)
        .join(Category, Category.id == Resource.category_id)
        .where(*conditions)
    )
    return list(session.scalars(query).unique())


def due(session: Session, now: datetime, *, zone: ZoneInfo, domain: str) -> int:
    """Write every reminder due at `now`; returns how many outbox rows were added."""
    with write_transaction(session):
        written = 0
        written += _booking_reminders(session, now, domain)
        written += _overdue(session, now)
        written += _trainings(session, now, domain)
        written += _host_digests(session, now, zone)
    return written


@dataclass(frozen=True)
class BookingReminder:
    """One kind of reminder about a booking: whom it concerns, when, and what it says."""

    kind: str  # what the person may turn off (OPTIONAL_KINDS)
    name: str  # the key's word
    template: str
    subject: Callable[[Booking], object]
    moment: Callable[[Booking], datetime]  # the instant it is about, part of its key
    conditions: Callable[[datetime], tuple]


BOOKING_REMINDERS = (
    BookingReminder(
        kind="pickup",
        name="pickup-reminder",
        template="reminder_pickup",
        subject=lambda b: _l("Demain : retrait de %(name)s", name=b.resource.name),
        moment=lambda b: b.starts_at,
        conditions=lambda now: (
            Booking.status == S.APPROVED.value,
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
            Booking.status == S.PICKED_UP.value,
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
            Booking.status == S.APPROVED.value,
            Category.needs_pickup.is_(False),
            Booking.starts_at > now,
            Booking.starts_at <= now + HOUR,
        ),
    ),
)


def _booking_reminders(session: Session, now: datetime, domain: str) -> int:
    written = 0
    for reminder in BOOKING_REMINDERS:
        for booking in _bookings(session, *reminder.conditions(now)):
            if booking.user.wants(reminder.kind):
                written += notify.email_user(
                    session,
                    key=f"booking:{booking.id}:{reminder.name}:{_stamp(reminder.moment(booking))}",
                    user=booking.user,
                    subject=reminder.subject(booking),
                    template=reminder.template,
                    booking=booking,
                    ics=lambda booking=booking: _booking_ics(booking, domain),
                    now=now,
                )
    return written


def _overdue(session: Session, now: datetime) -> int:
    """Day 1 of lateness, then every three days; the hosts get a copy. Cannot be turned off."""
    written = 0
    for booking in _bookings(session, Booking.status == S.PICKED_UP.value, Booking.ends_at <= now - DAY):
        days_late = (now - booking.ends_at) // DAY
        round_ = (days_late - 1) // OVERDUE_EVERY
        key = f"booking:{booking.id}:overdue:{_stamp(booking.ends_at)}:{round_}"
        written += notify.email_user(
            session,
            key=key,
            user=booking.user,
            subject=_l("Retour en retard : %(name)s", name=booking.resource.name),
            template="reminder_overdue",
            booking=booking,
            days_late=days_late,
            now=now,
        )
        for host in booking.resource.hosts:
            written += notify.email_user(
                session,
                key=f"{key}:to-host:{host.id}",
                user=host,
                subject=_l("Retour en retard : %(name)s", name=booking.resource.name),
                template="reminder_overdue_host",
                booking=booking,
                days_late=days_late,
                now=now,
            )
    return written


def _trainings(session: Session, now: datetime, domain: str) -> int:
    written = 0
    enrolments = session.scalars(
        select(Enrolment)
        .join(TrainingSession, TrainingSession.id == Enrolment.session_id)
        .where(
            Enrolment.status == EnrolmentStatus.REGISTERED.value,
            TrainingSession.cancelled_at.is_(None),
            TrainingSession.starts_at > now,
            TrainingSession.starts_at <= now + DAY,
        )
    ).unique()
    for enrolment in enrolments:
        if not enrolment.user.wants("training"):
            continue
        training = enrolment.session
        soon = training.starts_at <= now + HOUR
        written += notify.email_user(
            session,
            key=f"enrolment:{enrolment.id}:{'soon' if soon else 'tomorrow'}:{_stamp(training.starts_at)}",
            user=enrolment.user,
            subject=(
                _l("Dans une heure : %(title)s", title=training.title)
                if soon
                else _l("Demain : %(title)s", title=training.title)
            ),
            template="reminder_training",
            training=training,
            ics=lambda training=training, enrolment=enrolment: ical.calendar(
                training.title, [feeds.enrolment_item(enrolment, domain)]
            ).decode(),
            now=now,
        )
    return written


def _host_digests(session: Session, now: datetime, zone: ZoneInfo) -> int:
    """At 07:30 Paris time, one email per host listing the day's pickups and returns."""
    local = now.astimezone(zone)
    if local.time() < DIGEST_AT:
        return 0
    day_start = local_midnight(local.date(), zone)
    day_end = local_midnight(local.date() + DAY, zone)
    pickups = _bookings(
        session,
        Booking.status == S.APPROVED.value,
        Category.needs_pickup.is_(True),
        Booking.starts_at >= day_start,
        Booking.starts_at < day_end,
    )
    returns = _bookings(
        session, Booking.status == S.PICKED_UP.value, Booking.ends_at >= day_start, Booking.ends_at < day_end
    )
    written = 0
    for host in session.scalars(select(User).where(User.active.is_(True))):
        codes = host.host_codes
        if not codes or not host.wants("digest"):
            continue
        mine_out = [b for b in pickups if b.resource.departement_code in codes]
        mine_back = [b for b in returns if b.resource.departement_code in codes]
        if mine_out or mine_back:
            written += notify.email_user(
                session,
                key=f"host:{host.id}:digest:{local.date().isoformat()}",
                user=host,
                subject=_l(
                    "Aujourd'hui au guichet : %(n)d retrait(s), %(m)d retour(s)", n=len(mine_out), m=len(mine_back)
                ),
                template="host_digest",
                pickups=mine_out,
                returns=mine_back,
                now=now,
            )
    return written
