"""Test data, built with sensible defaults and any field overridden: make_user(email=…)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

from flask import current_app
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from app import entry
from app.models import (
    Booking,
    BookingStatus,
    Category,
    Departement,
    OpeningHours,
    PickupPoint,
    Resource,
    Role,
    User,
    UserRole,
)
from app.services.context import ServiceContext

PASSWORD = "mot-de-passe-solide"
# Hashing is slow on purpose; tests share one hash of the one password.
_PASSWORD_HASH = generate_password_hash(PASSWORD)
_counter = itertools.count(1)

NOW = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)  # a Monday


def make_context(actor: User | None = None, now: datetime = NOW, **overrides) -> ServiceContext:
    """The context a service is given, as an entry point builds it, at `now` for `actor`."""
    return replace(entry.build(current_app, actor, now), **overrides)


ctx = make_context  # tests read `booking.create(session, ctx(member), …)`


def make_user(session, *, roles=(), hosts=(), approved: bool = True, **overrides) -> User:
    n = next(_counter)
    values = {
        "email": f"personne{n}@example.org",
        "display_name": f"Personne {n}",
        "password_hash": _PASSWORD_HASH,
        "locale": "fr",
        "active": True,
        "created_at": NOW - timedelta(days=30),
        "approved_at": NOW - timedelta(days=29) if approved else None,
        "departement_code": "31",
    }
    values.update(overrides)
    user = User(**values)
    roles = set(roles) | ({Role.HOST.value} if hosts else set())
    user.role_rows = [UserRole(role=Role.MEMBER.value), *(UserRole(role=str(r)) for r in sorted(roles))]
    if hosts:
        user.hosted_departements = list(session.scalars(select(Departement).where(Departement.code.in_(hosts))))
    session.add(user)
    session.commit()
    return user


def make_category(session, **overrides) -> Category:
    n = next(_counter)
    values = {
        "slug": f"categorie-{n}",
        "name": f"Caméra {n}",
        "name_plural": f"Caméras {n}",
        "description": "",
        "needs_pickup": True,
        "needs_approval": True,
        "max_duration_hours": 24 * 7,
        "min_lead_hours": 0,
        "max_advance_days": 365,
        "buffer_hours": 0,
        "per_member_limit": None,
    }
    values.update(overrides)
    category = Category(**values)
    session.add(category)
    session.commit()
    return category


def make_resource(session, *, category: Category | None = None, **overrides) -> Resource:
    n = next(_counter)
    category = category or make_category(session)
    values = {
        "name": f"Ressource {n}",
        "category_id": category.id,
        "departement_code": "31",
        "description": "",
        "created_at": NOW - timedelta(days=60),
        "inventory_code": f"T-{n:05d}",
    }
    values.update(overrides)
    if category.needs_pickup and "pickup_point_id" not in values:
        values["pickup_point_id"] = make_pickup_point(session, departement_code=values["departement_code"]).id
    resource = Resource(**values)
    session.add(resource)
    session.commit()
    return resource


def make_pickup_point(session, *, departement_code: str = "31", hours=None, **overrides) -> PickupPoint:
    """The département's store (made once per test); `hours`: [(weekday, "09:00", "17:00"), …]."""
    point = session.scalar(select(PickupPoint).where(PickupPoint.departement_code == departement_code))
    if point is None:
        values = {"name": f"Stock {departement_code}", "address": "", "access_notes": "", "phone": "", "email": ""}
        point = PickupPoint(departement_code=departement_code, **values)
        session.add(point)
    for name, value in overrides.items():
        setattr(point, name, value)
    for weekday, opens, closes in hours or ():
        point.hours.append(
            OpeningHours(weekday=weekday, opens_at=time.fromisoformat(opens), closes_at=time.fromisoformat(closes))
        )
    session.commit()
    return point


def make_booking(
    session, *, resource: Resource, user: User, starts_at: datetime, ends_at: datetime, **overrides
) -> Booking:
    """A booking written directly, bypassing the rules: for setting the scene, not for testing them."""
    values = {
        "status": BookingStatus.APPROVED.value,
        "held_until": ends_at + resource.category.buffer,
        "purpose": "",
        "created_at": NOW - timedelta(days=1),
        "updated_at": NOW - timedelta(days=1),
        "sequence": 0,
    }
    values.update(overrides)
    booking = Booking(resource_id=resource.id, user_id=user.id, starts_at=starts_at, ends_at=ends_at, **values)
    session.add(booking)
    session.commit()
    return booking


def make_training(session, *, trainer: User | None = None, **overrides):
    from app.models import TrainingSession, TrainingTopic

    topic = session.scalar(select(TrainingTopic).order_by(TrainingTopic.id))
    starts_at = overrides.pop("starts_at", NOW + timedelta(days=10))
    values = {
        "topic_id": topic.id,
        "title": "OBS Studio : premiers pas",
        "description": "",
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(hours=3),
        "mode": "online",
        "video_link": "https://visio.example.org/obs",
        "capacity": 3,
        "registration_deadline": starts_at - timedelta(days=1),
        "level": "beginner",
        "created_at": NOW - timedelta(days=20),
        "updated_at": NOW - timedelta(days=20),
        "sequence": 0,
    }
    values.update(overrides)
    training = TrainingSession(**values)
    training.trainers = [trainer or make_user(session, roles={"trainer"})]
    session.add(training)
    session.commit()
    return training


def make_event(session, **overrides):
    from app.models import AgendaEvent, AgendaTheme

    starts_at = overrides.pop("starts_at", NOW + timedelta(days=5))
    theme_slugs = overrides.pop("themes", ())
    values = {
        "title": "Café des sciences",
        "description": "",
        "organiser_name": "Science Animation",
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(hours=2),
        "all_day": False,
        "departement_code": "31",
        "town": "Toulouse",
        "audiences": "grand_public",
        "region_supported": False,
        "status": "published",
        "created_at": NOW - timedelta(days=10),
        "updated_at": NOW - timedelta(days=10),
        "sequence": 0,
    }
    values.update(overrides)
    event = AgendaEvent(**values)
    event.themes = list(session.scalars(select(AgendaTheme).where(AgendaTheme.slug.in_(theme_slugs))))
    session.add(event)
    session.commit()
    return event
