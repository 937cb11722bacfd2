"""No double booking under concurrency: many writers, one slot, exactly one winner.

Runs in both passes of `make test`: on SQLite the unit of work's BEGIN IMMEDIATE serialises
the check and the insert; on PostgreSQL each thread has its own connection, and the row
lock plus the exclusion constraint decide.
"""

import threading
from datetime import timedelta

from sqlalchemy import select

from app.db import unit_of_work
from app.extensions import db
from app.models import Booking, Resource, User
from app.services import booking
from app.services.errors import Conflict
from tests.concurrency import run_together
from tests.factories import NOW, ctx

WRITERS = 16


def test_sixteen_concurrent_writers_on_one_slot_leave_exactly_one_booking(app, session, make_user, make_resource):
    resource = make_resource()
    user_ids = [make_user().id for _ in range(WRITERS)]
    resource_id = resource.id
    barrier = threading.Barrier(WRITERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def writer(user_id: int) -> None:
        # Line up first, then touch the database: holding a pooled connection while waiting at
        # the barrier would starve the threads still asking for one.
        barrier.wait()
        with app.app_context():
            try:
                with unit_of_work(db.session):
                    booking.create(
                        db.session,
                        ctx(db.session.get(User, user_id), now=NOW),
                        resource=db.session.get(Resource, resource_id),
                        starts_at=NOW + timedelta(days=2),
                        ends_at=NOW + timedelta(days=3),
                        purpose="",
                    )
                result = "booked"
            except Conflict:
                result = "conflict"
            except Exception as exc:  # anything else is a failure of the guarantee
                result = f"error: {type(exc).__name__}: {exc}"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(result)

    session.commit()  # the test's own connection goes back to the pool
    threads = [threading.Thread(target=writer, args=(uid,)) for uid in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(outcomes) == ["booked"] + ["conflict"] * (WRITERS - 1)
    session.expire_all()
    assert len(session.scalars(select(Booking)).all()) == 1


def test_concurrent_writers_on_different_resources_all_succeed(app, session, make_user, make_resource, make_category):
    category = make_category()
    resource_ids = [make_resource(category=category).id for _ in range(8)]
    user_ids = [make_user().id for _ in range(8)]
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def writer(user_id: int, resource_id: int) -> None:
        barrier.wait()
        with app.app_context():
            try:
                with unit_of_work(db.session):
                    booking.create(
                        db.session,
                        ctx(db.session.get(User, user_id), now=NOW),
                        resource=db.session.get(Resource, resource_id),
                        starts_at=NOW + timedelta(days=2),
                        ends_at=NOW + timedelta(days=3),
                        purpose="",
                    )
                outcomes.append("booked")
            except Exception as exc:
                outcomes.append(f"error: {exc}")
            finally:
                db.session.remove()

    session.commit()
    threads = [threading.Thread(target=writer, args=pair) for pair in zip(user_ids, resource_ids, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert outcomes == ["booked"] * 8


def test_a_member_booking_several_units_at_once_never_exceeds_the_per_member_limit(
    app, session, make_category, make_resource, make_user
):
    kind = make_category(name="Kit streaming", per_member_limit=1, needs_approval=False)
    unit_ids = [make_resource(category=kind).id for _ in range(4)]
    member_id = make_user().id
    start = NOW + timedelta(days=2)

    def book(unit_id: int):
        def job() -> None:
            s = db.session
            booking.create(
                s,
                ctx(s.get(User, member_id)),
                resource=s.get(Resource, unit_id),
                starts_at=start,
                ends_at=start + timedelta(hours=3),
                purpose="",
            )

        return job

    outcomes = run_together(app, [book(u) for u in unit_ids], session=session)

    assert sorted(outcomes) == ["done", "refused", "refused", "refused"]
    session.expire_all()
    assert len(session.scalars(select(Booking).where(Booking.user_id == member_id)).all()) == 1
