"""Kits under concurrency: many members booking one kit, or a kit and its item alone, at once.

A kit booking is whole or absent, never a partial kit held, and exactly as many succeed as
the units allow. Runs on SQLite (BEGIN IMMEDIATE) and on PostgreSQL (row locks taken in id
order, so that kit bookers picking units nearest first from different départements never
wait for each other in a cycle).
"""

from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from app.db import unit_of_work
from app.extensions import db
from app.models import Booking, Kit, KitBooking, Resource, User
from app.services import booking, kits
from app.services.kits import LineSpec
from tests.concurrency import run_together
from tests.factories import NOW, ctx

START = NOW + timedelta(days=2)
END = NOW + timedelta(days=3)


def book_kit(user_id: int, kit_id: int) -> Callable[[], None]:
    def job() -> None:
        kits.book(
            db.session,
            ctx(db.session.get(User, user_id)),
            kit=db.session.get(Kit, kit_id),
            starts_at=START,
            ends_at=END,
            purpose="",
        )

    return job


def book_item(user_id: int, resource_id: int) -> Callable[[], None]:
    def job() -> None:
        booking.create(
            db.session,
            ctx(db.session.get(User, user_id)),
            resource=db.session.get(Resource, resource_id),
            starts_at=START,
            ends_at=END,
            purpose="",
        )

    return job


def assert_every_kit_whole(session, units_per_kit: int) -> list[KitBooking]:
    session.expire_all()
    made = list(session.scalars(select(KitBooking)).unique())
    held = Counter(
        b.kit_booking_id
        for b in session.scalars(select(Booking).where(Booking.is_holding)).unique()
        if b.kit_booking_id
    )
    assert all(held[k.id] == units_per_kit for k in made), held
    assert set(held) == {k.id for k in made}
    return made


def test_twelve_members_booking_a_two_micro_kit_at_once_get_exactly_two_whole_kits(
    app, session, make_user, make_category, make_resource
):
    micro = make_category(name="Micro", needs_approval=False)
    for code in ("31", "31", "82", "09", "34"):
        make_resource(category=micro, departement_code=code)
    admin = make_user(roles={"admin"})
    with unit_of_work(session):
        kit = kits.save(
            session,
            ctx(admin),
            kit=None,
            name="Deux micros",
            description="",
            departement_code=None,
            lines=[LineSpec(category_id=micro.id, quantity=2)],
        )
    # From different départements: each picks the units in a different order.
    user_ids = [make_user(departement_code=code).id for code in ("31", "82", "09", "34") * 3]
    outcomes = run_together(app, [book_kit(uid, kit.id) for uid in user_ids], session=session)
    assert sorted(outcomes) == ["conflict"] * 10 + ["done"] * 2
    assert len(assert_every_kit_whole(session, 2)) == 2
    assert len(session.scalars(select(Booking)).all()) == 4


def test_a_kit_and_its_item_booked_alone_at_once_never_leave_a_partial_kit(
    app, session, make_user, make_category, make_resource
):
    camera = make_resource(category=make_category(name="Caméra", needs_approval=False), departement_code="31")
    micro = make_category(name="Micro", needs_approval=False)
    for code in ("31", "82", "09"):
        make_resource(category=micro, departement_code=code)
    admin = make_user(roles={"admin"})
    with unit_of_work(session):
        kit = kits.save(
            session,
            ctx(admin),
            kit=None,
            name="Caméra et micro",
            description="",
            departement_code=None,
            lines=[LineSpec(resource_id=camera.id), LineSpec(category_id=micro.id, quantity=1)],
        )
    kit_users = [make_user(departement_code=code).id for code in ("31", "82", "09") * 2]
    item_users = [make_user().id for _ in range(6)]
    jobs = [book_kit(uid, kit.id) for uid in kit_users] + [book_item(uid, camera.id) for uid in item_users]
    outcomes = run_together(app, jobs, session=session)
    # The camera exists once: one booking of it, by a kit or alone, and nothing else holds a micro.
    assert sorted(outcomes) == ["conflict"] * 11 + ["done"]
    made = assert_every_kit_whole(session, 2)
    held = session.scalars(select(Booking).where(Booking.is_holding)).unique().all()
    assert len(held) == (2 if made else 1)
    assert [b.resource_id for b in held if b.kit_booking_id is None] in ([], [camera.id])
