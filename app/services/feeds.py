"""What each iCal feed holds: the queries, and the items they become.

A feed is one query per kind of item it lists (bookings; enrolments) that selects only the
columns its events are written from. Each row becomes an `ical.Piece`, whose text is written
once per change and then kept (see ical.write). The builders that turn those values into
events also serve a loaded Booking, Enrolment or TrainingSession (one-off downloads, emails).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Row, Select, and_, case, or_, select, type_coerce
from sqlalchemy.orm import lazyload
from sqlalchemy.types import NullType

from app.db import DbSession
from app.models import (
    HOLDING_STATUSES,
    AgendaEvent,
    Booking,
    BookingStatus,
    Category,
    Departement,
    Enrolment,
    EnrolmentStatus,
    EventStatus,
    PickupPoint,
    Resource,
    TrainingSession,
    TrainingTopic,
    User,
)
from app.services.context import ServiceContext
from app.services.ical import Feed, FeedEvent, Piece

TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]+")  # what secrets.token_urlsafe gives
KEEP_CANCELLED = timedelta(days=30)
PAST_WINDOW = timedelta(days=90)
HANDOVER = timedelta(minutes=30)
S = BookingStatus
# What a booking's state says to a calendar, by what the state holds, so that a new state
# falls on the right side: holding and decided is CONFIRMED, holding and waiting for an answer
# (the host's, or the member's for a waitlist offer) TENTATIVE; no longer holding, it either
# took place (or was due to) or it is gone: CANCELLED, and listed only 30 days more.
DECIDED = (S.APPROVED, S.PICKED_UP)
TOOK_PLACE = (S.RETURNED, S.NO_SHOW)
AWAITING = tuple(s for s in HOLDING_STATUSES if s not in DECIDED)
GONE = tuple(s for s in BookingStatus if s not in HOLDING_STATUSES and s not in TOOK_PLACE)
# A feed query's row, whatever its columns.
FeedRow = Row[*tuple[Any, ...]]
# What `link(endpoint, **values)` gives: the absolute address of a page (None in tests).
Link = Callable[..., str | None]


# Tokens --------------------------------------------------------------------------------------


def new_token(session: DbSession, ctx: ServiceContext) -> str:
    """A fresh secret address for the acting person's feeds; the previous one stops working at once."""
    user = ctx.user
    token = secrets.token_urlsafe(32)
    user.feed_token = token
    return token


def revoke_token(session: DbSession, ctx: ServiceContext) -> None:
    ctx.user.feed_token = None


def user_for_token(session: DbSession, token: str) -> User | None:
    if not token or len(token) > 64 or not TOKEN_SHAPE.fullmatch(token):
        return None
    # Roles and départements are loaded only by the feeds that ask (the host's), not by every poll.
    user = session.scalar(select(User).options(lazyload("*")).where(User.feed_token == token, User.active.is_(True)))
    # The lookup finds the row; the comparison that decides is constant-time.
    if user is None or user.feed_token is None or not hmac.compare_digest(user.feed_token.encode(), token.encode()):
        return None
    return user


# What events are written from ----------------------------------------------------------------


def _place(point_name: str | None, point_address: str | None, departement: str) -> str:
    """Where an item is picked up, as a calendar's LOCATION: the pickup point's name and address."""
    if point_name is None:
        return departement
    address = " ".join((point_address or "").split())
    return f"{point_name}, {address}" if address else f"{point_name} ({departement})"


def place_of(resource: Resource) -> str:
    point = resource.pickup_point
    if point is None:
        return _place(None, None, resource.departement.label)
    return _place(point.name, point.address, resource.departement.label)


class BookingFacts(NamedTuple):
    id: int
    status: BookingStatus
    starts_at: datetime
    ends_at: datetime
    updated_at: datetime
    sequence: int
    purpose: str
    resource_name: str
    needs_pickup: bool
    place: str  # where it is handed over

    @classmethod
    def of(cls, booking: Booking) -> BookingFacts:
        resource = booking.resource
        return cls(
            booking.id,
            booking.status,
            booking.starts_at,
            booking.ends_at,
            booking.updated_at,
            booking.sequence,
            booking.purpose or "",
            resource.name,
            resource.category.needs_pickup,
            place_of(resource),
        )


class BusyFacts(NamedTuple):
    """A booking as the public sees it: when, and which item, never who or why."""

    id: int
    status: BookingStatus
    starts_at: datetime
    held_until: datetime
    updated_at: datetime
    sequence: int
    resource_name: str
    departement: str  # the resource's, as its label

    @classmethod
    def of(cls, booking: Booking) -> BusyFacts:
        return cls(
            booking.id,
            booking.status,
            booking.starts_at,
            booking.held_until,
            booking.updated_at,
            booking.sequence,
            booking.resource.name,
            booking.resource.departement.label,
        )


class TrainingFacts(NamedTuple):
    id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    updated_at: datetime
    sequence: int
    cancelled: bool
    topic: str
    mode: str
    place: str | None
    departement: str  # its label, or "" when the session has none

    @classmethod
    def of(cls, training: TrainingSession) -> TrainingFacts:
        return cls(
            training.id,
            training.title,
            training.starts_at,
            training.ends_at,
            training.updated_at,
            training.sequence,
            training.is_cancelled,
            training.topic.name,
            training.mode,
            training.place,
            training.departement.label if training.departement else "",
        )


class EnrolmentFacts(NamedTuple):
    id: int
    status: EnrolmentStatus
    updated_at: datetime
    sequence: int
    training: TrainingFacts

    @classmethod
    def of(cls, enrolment: Enrolment) -> EnrolmentFacts:
        return cls(
            enrolment.id,
            enrolment.status,
            enrolment.updated_at,
            enrolment.sequence,
            TrainingFacts.of(enrolment.session),
        )


# Items ---------------------------------------------------------------------------------------


class Words(NamedTuple):
    """Every phrase the builders below write, in the reader's language: looked up once per feed."""

    booking: str
    pickup: str
    give_back: str
    busy_named: str
    busy: str
    training: str
    waitlisted: str
    online: str


def _words() -> Words:
    return Words(
        booking=_("Réservation : %(name)s"),
        pickup=_("Retrait : %(name)s"),
        give_back=_("Retour : %(name)s"),
        busy_named=_("Occupé : %(name)s"),
        busy=_("Occupé"),
        training=_("Formation : %(title)s"),
        waitlisted=_("Liste d'attente — %(summary)s"),
        online=_("En ligne"),
    )


def _booking_status(status: BookingStatus) -> str:
    if status in GONE:
        return "CANCELLED"
    return "TENTATIVE" if status in AWAITING else "CONFIRMED"


def _booking_events(booking: BookingFacts, say: Words, domain: str, url: str | None) -> list[FeedEvent]:
    """The loan itself, plus its pickup and its return as their own events for physical items."""
    name = {"name": booking.resource_name}
    status = _booking_status(booking.status)
    main = FeedEvent(
        uid=f"booking-{booking.id}@{domain}",
        summary=say.booking % name,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        updated_at=booking.updated_at,
        sequence=booking.sequence,
        status=status,
        description=booking.purpose,
        location=booking.place,
        url=url,
    )
    if not booking.needs_pickup:
        return [main]
    handover_status = status if booking.status != S.NO_SHOW else "CANCELLED"

    def handover(kind: str, summary: str, at: datetime) -> FeedEvent:
        return FeedEvent(
            uid=f"booking-{booking.id}-{kind}@{domain}",
            summary=summary,
            starts_at=at,
            ends_at=at + HANDOVER,
            updated_at=booking.updated_at,
            sequence=booking.sequence,
            status=handover_status,
            location=booking.place,
            url=url,
        )

    return [
        main,
        handover("pickup", say.pickup % name, booking.starts_at),
        handover("return", say.give_back % name, booking.ends_at),
    ]


def booking_items(booking: Booking, domain: str, url: str | None = None) -> list[FeedEvent]:
    return _booking_events(BookingFacts.of(booking), _words(), domain, url)


def _host_events(
    booking: BookingFacts, who: str, email: str, say: Words, domain: str, url: str | None
) -> list[FeedEvent]:
    """A pickup and a return as the host sees them: with who comes."""
    _main, pickup, give_back = _booking_events(booking, say, domain, url)
    return [
        replace(pickup, summary=f"{pickup.summary} — {who}", description=email),
        replace(give_back, summary=f"{give_back.summary} — {who}", description=email),
    ]


def _training_where(training: TrainingFacts, say: Words) -> str:
    if training.mode == "online":
        return say.online
    return ", ".join(x for x in (training.place, training.departement) if x)


def _training_event(training: TrainingFacts, say: Words, domain: str, url: str | None) -> FeedEvent:
    return FeedEvent(
        uid=f"training-{training.id}@{domain}",
        summary=say.training % {"title": training.title},
        starts_at=training.starts_at,
        ends_at=training.ends_at,
        updated_at=training.updated_at,
        sequence=training.sequence,
        status="CANCELLED" if training.cancelled else "CONFIRMED",
        description=training.topic,
        location=_training_where(training, say),
        url=url,
    )


def training_item(training: TrainingSession, domain: str, url: str | None = None) -> FeedEvent:
    return _training_event(TrainingFacts.of(training), _words(), domain, url)


def _enrolment_event(enrolment: EnrolmentFacts, say: Words, domain: str, url: str | None) -> FeedEvent:
    """Registered: confirmed; on the waitlist: tentative; cancelled (by either side): cancelled."""
    training = enrolment.training
    if training.cancelled or enrolment.status == EnrolmentStatus.CANCELLED:
        status = "CANCELLED"
    elif enrolment.status == EnrolmentStatus.WAITLISTED:
        status = "TENTATIVE"
    else:
        status = "CONFIRMED"
    summary = say.training % {"title": training.title}
    if status == "TENTATIVE":
        summary = say.waitlisted % {"summary": summary}
    return FeedEvent(
        uid=f"enrolment-{enrolment.id}@{domain}",
        summary=summary,
        starts_at=training.starts_at,
        ends_at=training.ends_at,
        # Both the enrolment and its session can change: the later change and the sum of
        # both counters grow whenever either does.
        updated_at=max(enrolment.updated_at, training.updated_at),
        sequence=enrolment.sequence + training.sequence,
        status=status,
        description=training.topic,
        location=_training_where(training, say),
        url=url,
    )


def enrolment_item(enrolment: Enrolment, domain: str, url: str | None = None) -> FeedEvent:
    return _enrolment_event(EnrolmentFacts.of(enrolment), _words(), domain, url)


def _busy_event(booking: BusyFacts, say: Words, domain: str, *, with_resource_name: bool) -> FeedEvent:
    """A booking as others may see it: busy (buffer included), never who or why."""
    return FeedEvent(
        uid=f"busy-{booking.id}@{domain}",
        summary=say.busy_named % {"name": booking.resource_name} if with_resource_name else say.busy,
        starts_at=booking.starts_at,
        ends_at=booking.held_until,
        updated_at=booking.updated_at,
        sequence=booking.sequence,
        status="CONFIRMED" if booking.status in HOLDING_STATUSES else "CANCELLED",
        location=booking.departement,
    )


def busy_item(booking: Booking, domain: str, *, with_resource_name: bool) -> FeedEvent:
    return _busy_event(BusyFacts.of(booking), _words(), domain, with_resource_name=with_resource_name)


class AgendaFacts(NamedTuple):
    id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    updated_at: datetime
    sequence: int
    cancelled: bool
    description: str
    town: str
    departement: str  # its label, or "" when the event has none

    @classmethod
    def of(cls, event: AgendaEvent) -> AgendaFacts:
        return cls(
            event.id,
            event.title,
            event.starts_at,
            event.ends_at,
            event.updated_at,
            event.sequence,
            event.status == EventStatus.CANCELLED,
            event.description,
            event.town,
            event.departement.label if event.departement else "",
        )


def _agenda_event(event: AgendaFacts, domain: str, url: str | None) -> FeedEvent:
    """An agenda event; all-day ones keep their local-midnight bounds (given in UTC)."""
    return FeedEvent(
        uid=f"agenda-{event.id}@{domain}",
        summary=event.title,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        updated_at=event.updated_at,
        sequence=event.sequence,
        status="CANCELLED" if event.cancelled else "CONFIRMED",
        description=event.description,
        location=", ".join(x for x in (event.town, event.departement) if x),
        url=url,
    )


def agenda_item(event: AgendaEvent, domain: str, url: str | None = None) -> FeedEvent:
    return _agenda_event(AgendaFacts.of(event), domain, url)


# Rows: the columns the events show, as the driver gives them ----------------------------------
#
# Every feed query starts with the item's id, the instant it is placed at and its last change,
# read by position when a row becomes a piece (a Row's attributes cost ten times more). Instants
# and states are selected raw, without their type's conversion (in Python, per value, the bulk
# of a feed's time): a row only needs converting when its piece is written.


def _raw(column: Any, name: str | None = None) -> ColumnElement[Any]:
    return type_coerce(column, NullType()).label(name or column.key)


def _instant(value: Any) -> datetime:
    """A raw instant in UTC, as UTCDateTime gives it: SQLite stores naive UTC text, PostgreSQL gives it aware."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _label(code: str, name: str) -> str:
    return f"{code} – {name}"  # Departement.label, which the tests hold it to


def _feed(pieces: list[Piece], changes: Iterable[Any], dialect: str) -> Feed:
    last = max(changes, default=None)
    return Feed(pieces, dialect, None if last is None else _instant(last))


def _dialect(ctx: ServiceContext, say: Words | None, *links: str | None) -> str:
    """What a feed's events depend on besides their rows, the same for all of them: the UIDs'
    domain, the address of the pages they link to, and the words of the reader's language."""
    return hashlib.sha256(repr((ctx.site_domain, links, say and tuple(say))).encode()).hexdigest()


def _with_resource(query: Select[Any]) -> Select[Any]:
    return query.join(Resource, Resource.id == Booking.resource_id).join(
        Departement, Departement.code == Resource.departement_code
    )


def _loans(*extra: Any) -> Select[Any]:
    """Bookings with their resource's name, category rule, pickup point and département."""
    query = select(
        Booking.id,
        _raw(Booking.starts_at),
        _raw(Booking.updated_at),
        _raw(Booking.status),
        _raw(Booking.ends_at),
        Booking.sequence,
        Booking.purpose,
        Resource.name.label("resource_name"),
        Category.needs_pickup,
        PickupPoint.name.label("point_name"),
        PickupPoint.address.label("point_address"),
        Departement.code.label("departement_code"),
        Departement.name.label("departement_name"),
        *extra,
    ).select_from(Booking)
    return (
        _with_resource(query)
        .join(Category, Category.id == Resource.category_id)
        .outerjoin(PickupPoint, PickupPoint.id == Resource.pickup_point_id)
    )


def _loan_facts(row: FeedRow) -> BookingFacts:
    place = _place(row.point_name, row.point_address, _label(row.departement_code, row.departement_name))
    return BookingFacts(
        row.id,
        BookingStatus(row.status),
        _instant(row.starts_at),
        _instant(row.ends_at),
        _instant(row.updated_at),
        row.sequence,
        row.purpose or "",
        row.resource_name,
        bool(row.needs_pickup),
        place,
    )


def _busy_rows() -> Select[Any]:
    """Bookings as the public feeds show them: never the purpose nor the holder."""
    query = select(
        Booking.id,
        _raw(Booking.starts_at),
        _raw(Booking.updated_at),
        _raw(Booking.status),
        _raw(Booking.held_until),
        Booking.sequence,
        Resource.name.label("resource_name"),
        Departement.code.label("departement_code"),
        Departement.name.label("departement_name"),
    ).select_from(Booking)
    return _with_resource(query)


def _busy_facts(row: FeedRow) -> BusyFacts:
    return BusyFacts(
        row.id,
        BookingStatus(row.status),
        _instant(row.starts_at),
        _instant(row.held_until),
        _instant(row.updated_at),
        row.sequence,
        row.resource_name,
        _label(row.departement_code, row.departement_name),
    )


def _training_columns() -> tuple[Any, ...]:
    """A session's columns, its id, start and last change first, with its topic's name and département."""
    return (
        TrainingSession.id,
        _raw(TrainingSession.starts_at),
        _raw(TrainingSession.updated_at),
        TrainingSession.title,
        _raw(TrainingSession.ends_at),
        TrainingSession.sequence,
        _raw(TrainingSession.cancelled_at),
        TrainingTopic.name.label("topic"),
        TrainingSession.mode,
        TrainingSession.place,
        Departement.code.label("departement_code"),
        Departement.name.label("departement_name"),
    )


def _with_topic_and_departement(query: Select[Any]) -> Select[Any]:
    return query.join(TrainingTopic, TrainingTopic.id == TrainingSession.topic_id).outerjoin(
        Departement, Departement.code == TrainingSession.departement_code
    )


def _training_facts(row: FeedRow) -> TrainingFacts:
    code = row.departement_code
    return TrainingFacts(
        row.id,
        row.title,
        _instant(row.starts_at),
        _instant(row.ends_at),
        _instant(row.updated_at),
        row.sequence,
        row.cancelled_at is not None,
        row.topic,
        row.mode,
        row.place,
        _label(code, row.departement_name) if code else "",
    )


def _enrolment_facts(row: FeedRow) -> EnrolmentFacts:
    return EnrolmentFacts(
        row.enrolment_id,
        EnrolmentStatus(row.enrolment_status),
        _instant(row.enrolment_updated_at),
        row.enrolment_sequence,
        _training_facts(row),
    )


def _agenda_facts(row: FeedRow) -> AgendaFacts:
    code = row.departement_code
    return AgendaFacts(
        row.id,
        row.title,
        _instant(row.starts_at),
        _instant(row.ends_at),
        _instant(row.updated_at),
        row.sequence,
        row.status == EventStatus.CANCELLED,
        row.description,
        row.town,
        _label(code, row.departement_name) if code else "",
    )


def _rows(session: DbSession, query: Select[Any]) -> list[FeedRow]:
    """Plain rows, through the session's connection and transaction: the ORM's handling of a
    result costs a sixth of a feed's time, and these columns make no objects."""
    session.flush()  # what the ORM's own execute would do first
    return list(session.connection().execute(query).all())


def _pieces(rows: Iterable[FeedRow], kind: str, build: Callable[[Any], list[FeedEvent]]) -> list[Piece]:
    return [Piece(row[1], kind, row[0], row, build) for row in rows]


# Feeds -----------------------------------------------------------------------------------------


def _recent_or_live(now: datetime) -> ColumnElement[bool]:
    """Bookings worth listing: not long past, and cancelled ones only for 30 days."""
    return and_(
        Booking.ends_at > now - PAST_WINDOW,
        or_(~Booking.status.in_(GONE), Booking.updated_at > now - KEEP_CANCELLED),
    )


def _of_resources_recent_or_live(now: datetime) -> ColumnElement[bool]:
    """The same, for feeds that read bookings resource by resource: held_until is implied by
    ends_at (never earlier), and with the resource it is what an index can range over. (A
    person's feed goes without it: there the planner would pair two indexes for nothing.)"""
    return and_(Booking.held_until > now - PAST_WINDOW, _recent_or_live(now))


def personal(session: DbSession, ctx: ServiceContext, *, user: User, link: Link) -> Feed:
    """A person's bookings and enrolments; `user` is the token's owner, ctx.actor is nobody (a calendar app)."""
    now, domain, say = ctx.now, ctx.site_domain, _words()

    def loan(row: FeedRow) -> list[FeedEvent]:
        return _booking_events(_loan_facts(row), say, domain, link("bookings.detail", booking_id=row.id))

    def enrolment(row: FeedRow) -> list[FeedEvent]:
        url = link("trainings.detail", training_id=row.id)
        return [_enrolment_event(_enrolment_facts(row), say, domain, url)]

    loans = _rows(session, _loans().where(Booking.user_id == user.id, _recent_or_live(now)))
    # The enrolment's event changes with the enrolment and with its session: the later change.
    changed_at = case(
        (Enrolment.updated_at > TrainingSession.updated_at, Enrolment.updated_at), else_=TrainingSession.updated_at
    )
    query = select(
        Enrolment.id.label("enrolment_id"),
        _raw(TrainingSession.starts_at, "at"),
        _raw(changed_at, "changed_at"),
        _raw(Enrolment.status, "enrolment_status"),
        _raw(Enrolment.updated_at, "enrolment_updated_at"),
        Enrolment.sequence.label("enrolment_sequence"),
        *_training_columns(),
    ).select_from(Enrolment)
    query = _with_topic_and_departement(query.join(TrainingSession, TrainingSession.id == Enrolment.session_id))
    enrolments = _rows(
        session,
        query.where(
            Enrolment.user_id == user.id,
            TrainingSession.ends_at > now - PAST_WINDOW,
            or_(Enrolment.status != EnrolmentStatus.CANCELLED, Enrolment.updated_at > now - KEEP_CANCELLED),
        ),
    )
    pieces = _pieces(loans, "booking", loan) + _pieces(enrolments, "enrolment", enrolment)
    dialect = _dialect(ctx, say, link("bookings.detail", booking_id=0), link("trainings.detail", training_id=0))
    return _feed(pieces, [r[2] for r in loans] + [r[2] for r in enrolments], dialect)


def host(session: DbSession, ctx: ServiceContext, *, user: User, link: Link) -> Feed:
    """Every pickup and return due in the person's départements, with who comes."""
    codes = sorted(user.host_codes)
    if not codes:
        return Feed([])
    domain, say = ctx.site_domain, _words()

    def handovers(row: FeedRow) -> list[FeedEvent]:
        url = link("bookings.detail", booking_id=row.id)
        return _host_events(_loan_facts(row), row.display_name, row.email, say, domain, url)

    rows = _rows(
        session,
        _loans(User.display_name, User.email)
        .join(User, User.id == Booking.user_id)
        .where(
            Resource.departement_code.in_(codes),
            Category.needs_pickup.is_(True),
            _of_resources_recent_or_live(ctx.now),
        ),
    )
    dialect = _dialect(ctx, say, link("bookings.detail", booking_id=0))
    return _feed(_pieces(rows, "handover", handovers), [r[2] for r in rows], dialect)


def _busy(session: DbSession, ctx: ServiceContext, where: ColumnElement[bool], *, with_resource_name: bool) -> Feed:
    domain, say = ctx.site_domain, _words()

    def busy(row: FeedRow) -> list[FeedEvent]:
        return [_busy_event(_busy_facts(row), say, domain, with_resource_name=with_resource_name)]

    rows = _rows(session, _busy_rows().where(where, _of_resources_recent_or_live(ctx.now)))
    pieces = _pieces(rows, "busy-named" if with_resource_name else "busy", busy)
    return _feed(pieces, [r[2] for r in rows], _dialect(ctx, say))


def resource_busy(session: DbSession, ctx: ServiceContext, *, resource: Resource) -> Feed:
    return _busy(session, ctx, Booking.resource_id == resource.id, with_resource_name=False)


def departement_busy(session: DbSession, ctx: ServiceContext, *, code: str) -> Feed:
    return _busy(session, ctx, Resource.departement_code == code, with_resource_name=True)


def trainings(session: DbSession, ctx: ServiceContext, *, link: Link, topic_id: int | None = None) -> Feed:
    now, domain, say = ctx.now, ctx.site_domain, _words()

    def training(row: FeedRow) -> list[FeedEvent]:
        return [_training_event(_training_facts(row), say, domain, link("trainings.detail", training_id=row.id))]

    query = _with_topic_and_departement(select(*_training_columns()).select_from(TrainingSession)).where(
        TrainingSession.ends_at > now - PAST_WINDOW,
        or_(TrainingSession.cancelled_at.is_(None), TrainingSession.cancelled_at > now - KEEP_CANCELLED),
    )
    if topic_id:
        query = query.where(TrainingSession.topic_id == topic_id)
    rows = _rows(session, query)
    dialect = _dialect(ctx, say, link("trainings.detail", training_id=0))
    return _feed(_pieces(rows, "training", training), [r[2] for r in rows], dialect)


def agenda(session: DbSession, ctx: ServiceContext, *, events: Select[Any], link: Link) -> Feed:
    """The agenda's feed: the events `events` selects (agenda.public_events, filtered as the page
    is), those that ended less than a month ago and all that come."""
    domain = ctx.site_domain

    def agenda_event(row: FeedRow) -> list[FeedEvent]:
        return [_agenda_event(_agenda_facts(row), domain, link("agenda.detail", event_id=row.id))]

    query = events.with_only_columns(
        AgendaEvent.id,
        _raw(AgendaEvent.starts_at),
        _raw(AgendaEvent.updated_at),
        AgendaEvent.title,
        _raw(AgendaEvent.ends_at),
        AgendaEvent.sequence,
        _raw(AgendaEvent.status),
        AgendaEvent.description,
        AgendaEvent.town,
        Departement.code.label("departement_code"),
        Departement.name.label("departement_name"),
    ).outerjoin_from(AgendaEvent, Departement, Departement.code == AgendaEvent.departement_code)
    rows = _rows(session, query.where(AgendaEvent.ends_at > ctx.now - KEEP_CANCELLED))
    dialect = _dialect(ctx, None, link("agenda.detail", event_id=0))
    return _feed(_pieces(rows, "agenda", agenda_event), [r[2] for r in rows], dialect)
