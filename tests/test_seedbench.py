"""The benchmark's data set (`flask seed-bench`), at a tiny scale, on the database of the run."""

from __future__ import annotations

import re
from datetime import timedelta
from itertools import pairwise

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from app.db import unit_of_work
from app.extensions import db
from app.models import AgendaEvent, Booking, Enrolment, Resource, TrainingSession, User
from app.seedbench import FEED_TOKEN, FEED_USER_BOOKINGS, NotEmpty, Plan, check_no_overlap, load
from tests.conftest import ON_POSTGRES, _empty_tables
from tests.factories import NOW

SCALE = 0.002
HOLDING = ("requested", "approved", "picked_up")
# Rows that differ from one load to the next by design: a salted hash, a Fernet token.
VOLATILE = {"users": {"password_hash"}, "resources": {"credentials_encrypted"}}
TABLES = (
    "organisations",
    "users",
    "user_roles",
    "host_departements",
    "categories",
    "pickup_points",
    "opening_hours",
    "resources",
    "bookings",
    "training_sessions",
    "training_session_trainers",
    "enrolments",
    "agenda_events",
    "agenda_event_themes",
)


def seed(session, ctx, *, seed: int = 17, force: bool = False):
    with unit_of_work(session):
        return load(session, ctx(), plan=Plan.at(SCALE), seed=seed, force=force)


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def dump(session) -> dict[str, list[tuple]]:
    rows = {}
    for name in TABLES:
        table = db.metadata.tables[name]
        columns = [c for c in table.columns if c.name not in VOLATILE.get(name, set())]
        rows[name] = [tuple(row) for row in session.execute(select(*columns).order_by(*table.primary_key.columns))]
    session.rollback()
    return rows


def sqlite_triggers(session) -> set[tuple[str, str]]:
    found = session.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"))
    return {(name, sql) for name, sql in found}


@pytest.fixture(autouse=True)
def empty_database(session):
    # Migrations leave each département's store behind: the data set starts from nothing.
    _empty_tables()


def test_a_tiny_scale_writes_the_rows_its_plan_counts(session, ctx):
    plan = Plan.at(SCALE)

    counts = seed(session, ctx)

    assert (plan.users, plan.resources, plan.bookings) == (2_000, 600, 2_000)
    assert (plan.trainings, plan.enrolments, plan.events) == (6, 80, 40)
    assert count(session, User) == counts.users == plan.users
    assert count(session, Resource) == counts.resources == plan.resources
    assert count(session, Booking) == counts.bookings == plan.bookings
    assert count(session, TrainingSession) == counts.trainings == plan.trainings
    assert count(session, Enrolment) == counts.enrolments == plan.enrolments
    assert count(session, AgendaEvent) == counts.events == plan.events


def test_the_same_seed_on_the_same_day_writes_the_same_rows(session, ctx):
    seed(session, ctx)
    first = dump(session)
    _empty_tables()
    seed(session, ctx)
    again = dump(session)
    _empty_tables()
    seed(session, ctx, seed=18)
    other = dump(session)

    assert first == again
    assert first["bookings"] != other["bookings"]


def test_no_two_holding_bookings_of_one_resource_overlap_buffers_included(session, ctx):
    seed(session, ctx)

    holding = session.execute(
        select(Booking.resource_id, Booking.starts_at, Booking.held_until)
        .where(Booking.status.in_(HOLDING))
        .order_by(Booking.resource_id, Booking.starts_at)
    ).all()
    assert len(holding) > 100
    for before, after in pairwise(holding):
        if before.resource_id == after.resource_id:
            assert before.held_until <= after.starts_at
    assert check_no_overlap(session.connection()) == 0


def test_the_database_refuses_an_overlapping_booking_again_after_the_load(session, ctx):
    triggers_before = set() if ON_POSTGRES else sqlite_triggers(session)
    session.rollback()
    seed(session, ctx)

    if not ON_POSTGRES:
        assert sqlite_triggers(session) == triggers_before
        assert {name for name, _sql in triggers_before} >= {
            "bookings_no_overlap_insert",
            "bookings_no_overlap_update",
            "bookings_not_out_of_service_insert",
            "bookings_not_out_of_service_update",
        }
    taken = session.scalars(select(Booking).where(Booking.status == "approved").order_by(Booking.id)).first()
    values = {
        "resource_id": taken.resource_id,
        "user_id": taken.user_id,
        "starts_at": taken.starts_at + timedelta(minutes=30),
        "ends_at": taken.ends_at,
        "held_until": taken.held_until,
    }
    session.rollback()
    with pytest.raises(IntegrityError), unit_of_work(session):
        session.add(Booking(**values, status="approved", purpose="", created_at=NOW, updated_at=NOW, sequence=0))
        session.flush()


def test_the_feed_owner_has_two_hundred_bookings_in_their_feed(session, ctx, client, clock):
    counts = seed(session, ctx)
    clock(NOW)

    listed = session.scalar(
        select(func.count())
        .select_from(Booking)
        .where(Booking.user_id == counts.feed_user_id, Booking.ends_at > NOW - timedelta(days=90))
    )
    response = client.get(f"/feeds/me/{FEED_TOKEN}.ics")

    assert listed == FEED_USER_BOOKINGS
    assert response.status_code == 200
    assert len(re.findall(rb"UID:booking-\d+@", response.data)) == FEED_USER_BOOKINGS


def test_a_database_that_holds_people_is_refused_unless_forced(session, ctx, make_user, runner):
    make_user()

    refused = runner.invoke(args=["seed-bench", "--scale", str(SCALE)])
    with pytest.raises(NotEmpty):
        seed(session, ctx)
    assert count(session, User) == 1
    forced = runner.invoke(args=["seed-bench", "--scale", str(SCALE), "--force"])

    assert refused.exit_code == 1
    assert "--force" in refused.output
    assert forced.exit_code == 0, forced.output
    assert count(session, User) == 1 + 2_000
    assert count(session, Booking) == 2_000
