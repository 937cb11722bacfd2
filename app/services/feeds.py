"""What each iCal feed holds: the queries, and the items they become.

Each feed is one or two queries whatever its size: bookings come with their resource,
category, département and holder (joined eagerly), enrolments with their session.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, or_, select

from app.db import DbSession
from app.models import (
    AgendaEvent,
    Booking,
    BookingStatus,
    Category,
    Enrolment,
    EnrolmentStatus,
    EventStatus,
    Resource,
    TrainingSession,
    User,
)
from app.services.context import ServiceContext
from app.services.ical import FeedEvent

TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]+")  # what secrets.token_urlsafe gives
KEEP_CANCELLED = timedelta(days=30)
PAST_WINDOW = timedelta(days=90)
HANDOVER = timedelta(minutes=30)
S = BookingStatus
GONE = (S.CANCELLED, S.REJECTED)
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
    user = session.scalar(select(User).where(User.feed_token == token, User.active.is_(True)))
    # The lookup finds the row; the comparison that decides is constant-time.
    if user is None or user.feed_token is None or not hmac.compare_digest(user.feed_token.encode(), token.encode()):
        return None
    return user


# Items ---------------------------------------------------------------------------------------


def _booking_status(booking: Booking) -> str:
    if booking.status in GONE:
        return "CANCELLED"
    return "TENTATIVE" if booking.status == S.REQUESTED else "CONFIRMED"


def place_of(resource: Resource) -> str:
    """Where the item is picked up, as a calendar's LOCATION: the pickup point's name and address."""
    point = resource.pickup_point
    if point is None:
        return resource.departement.label
    address = " ".join(point.address.split())
    return f"{point.name}, {address}" if address else f"{point.name} ({resource.departement.label})"


def booking_items(booking: Booking, domain: str, url: str | None = None) -> list[FeedEvent]:
    """The loan itself, plus its pickup and its return as their own events for physical items."""
    resource = booking.resource
    status = _booking_status(booking)
    where = place_of(resource)
    main = FeedEvent(
        uid=f"booking-{booking.id}@{domain}",
        summary=_("Réservation : %(name)s", name=resource.name),
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        updated_at=booking.updated_at,
        sequence=booking.sequence,
        status=status,
        description=booking.purpose or "",
        location=where,
        url=url,
    )
    if not resource.category.needs_pickup:
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
            location=where,
            url=url,
        )

    return [
        main,
        handover("pickup", _("Retrait : %(name)s", name=resource.name), booking.starts_at),
        handover("return", _("Retour : %(name)s", name=resource.name), booking.ends_at),
    ]


def _training_where(training: TrainingSession) -> str:
    if training.mode == "online":
        return _("En ligne")
    return ", ".join(x for x in (training.place, training.departement.label if training.departement else "") if x)


def training_item(training: TrainingSession, domain: str, url: str | None = None) -> FeedEvent:
    return FeedEvent(
        uid=f"training-{training.id}@{domain}",
        summary=_("Formation : %(title)s", title=training.title),
        starts_at=training.starts_at,
        ends_at=training.ends_at,
        updated_at=training.updated_at,
        sequence=training.sequence,
        status="CANCELLED" if training.is_cancelled else "CONFIRMED",
        description=training.topic.name,
        location=_training_where(training),
        url=url,
    )


def enrolment_item(enrolment: Enrolment, domain: str, url: str | None = None) -> FeedEvent:
    """Registered: confirmed; on the waitlist: tentative; cancelled (by either side): cancelled."""
    training = enrolment.session
    if training.is_cancelled or enrolment.status == EnrolmentStatus.CANCELLED:
        status = "CANCELLED"
    elif enrolment.status == EnrolmentStatus.WAITLISTED:
        status = "TENTATIVE"
    else:
        status = "CONFIRMED"
    summary = _("Formation : %(title)s", title=training.title)
    if status == "TENTATIVE":
        summary = _("Liste d'attente — %(summary)s", summary=summary)
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
        description=training.topic.name,
        location=_training_where(training),
        url=url,
    )


def busy_item(booking: Booking, domain: str, *, with_resource_name: bool) -> FeedEvent:
    """A booking as others may see it: busy (buffer included), never who or why."""
    name = booking.resource.name
    return FeedEvent(
        uid=f"busy-{booking.id}@{domain}",
        summary=_("Occupé : %(name)s", name=name) if with_resource_name else _("Occupé"),
        starts_at=booking.starts_at,
        ends_at=booking.held_until,
        updated_at=booking.updated_at,
        sequence=booking.sequence,
        status="CONFIRMED" if booking.is_holding else "CANCELLED",
        location=booking.resource.departement.label,
    )


# Feeds -----------------------------------------------------------------------------------------


def _recent_or_live(now: datetime) -> ColumnElement[bool]:
    """Bookings worth listing: not long past, and cancelled ones only for 30 days."""
    return and_(
        Booking.ends_at > now - PAST_WINDOW,
        or_(~Booking.status.in_(GONE), Booking.updated_at > now - KEEP_CANCELLED),
    )


def personal(session: DbSession, ctx: ServiceContext, *, user: User, link: Link) -> list[FeedEvent]:
    """A person's bookings and enrolments; `user` is the token's owner, ctx.actor is nobody (a calendar app)."""
    now, domain = ctx.now, ctx.site_domain
    items: list[FeedEvent] = []
    bookings = session.scalars(select(Booking).where(Booking.user_id == user.id, _recent_or_live(now))).unique()
    for booking in bookings:
        items += booking_items(booking, domain, link("bookings.detail", booking_id=booking.id))
    enrolments = session.scalars(
        select(Enrolment)
        .join(TrainingSession, TrainingSession.id == Enrolment.session_id)
        .where(
            Enrolment.user_id == user.id,
            TrainingSession.ends_at > now - PAST_WINDOW,
            or_(Enrolment.status != EnrolmentStatus.CANCELLED, Enrolment.updated_at > now - KEEP_CANCELLED),
        )
    ).unique()
    items += [enrolment_item(e, domain, link("trainings.detail", training_id=e.session_id)) for e in enrolments]
    return items


def host(session: DbSession, ctx: ServiceContext, *, user: User, link: Link) -> list[FeedEvent]:
    """Every pickup and return due in the person's départements, with who comes."""
    codes = sorted(user.host_codes)
    if not codes:
        return []
    bookings = session.scalars(
        select(Booking)
        .join(Resource, Resource.id == Booking.resource_id)
        .join(Category, Category.id == Resource.category_id)
        .where(Resource.departement_code.in_(codes), Category.needs_pickup.is_(True), _recent_or_live(ctx.now))
    ).unique()
    items = []
    for booking in bookings:
        _main, pickup, give_back = booking_items(
            booking, ctx.site_domain, link("bookings.detail", booking_id=booking.id)
        )
        who = booking.user.display_name
        pickup = _with(pickup, summary=f"{pickup.summary} — {who}", description=booking.user.email)
        give_back = _with(give_back, summary=f"{give_back.summary} — {who}", description=booking.user.email)
        items += [pickup, give_back]
    return items


def _with(item: FeedEvent, **changes: Any) -> FeedEvent:
    return replace(item, **changes)


def resource_busy(session: DbSession, ctx: ServiceContext, *, resource: Resource) -> list[FeedEvent]:
    bookings = session.scalars(
        select(Booking).where(Booking.resource_id == resource.id, _recent_or_live(ctx.now))
    ).unique()
    return [busy_item(b, ctx.site_domain, with_resource_name=False) for b in bookings]


def departement_busy(session: DbSession, ctx: ServiceContext, *, code: str) -> list[FeedEvent]:
    bookings = session.scalars(
        select(Booking)
        .join(Resource, Resource.id == Booking.resource_id)
        .where(Resource.departement_code == code, _recent_or_live(ctx.now))
    ).unique()
    return [busy_item(b, ctx.site_domain, with_resource_name=True) for b in bookings]


def trainings(session: DbSession, ctx: ServiceContext, *, link: Link, topic_id: int | None = None) -> list[FeedEvent]:
    now = ctx.now
    query = select(TrainingSession).where(
        TrainingSession.ends_at > now - PAST_WINDOW,
        or_(TrainingSession.cancelled_at.is_(None), TrainingSession.cancelled_at > now - KEEP_CANCELLED),
    )
    if topic_id:
        query = query.where(TrainingSession.topic_id == topic_id)
    return [
        training_item(t, ctx.site_domain, link("trainings.detail", training_id=t.id))
        for t in session.scalars(query).unique()
    ]


def agenda_item(event: AgendaEvent, domain: str, url: str | None = None) -> FeedEvent:
    """An agenda event; all-day ones keep their local-midnight bounds (given in UTC)."""
    place = ", ".join(x for x in (event.town, event.departement.label if event.departement else "") if x)
    return FeedEvent(
        uid=f"agenda-{event.id}@{domain}",
        summary=event.title,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        updated_at=event.updated_at,
        sequence=event.sequence,
        status="CANCELLED" if event.status == EventStatus.CANCELLED else "CONFIRMED",
        description=event.description,
        location=place,
        url=url,
    )
