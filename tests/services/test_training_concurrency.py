"""Many people at once: capacity is never exceeded, the waitlist keeps arrival order, and each
freed seat goes to exactly one person.

Runs in both passes of `make test`: each thread opens its own unit of work on its own
connection; on SQLite BEGIN IMMEDIATE serialises them, on PostgreSQL the session's row lock does.
"""

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from app.db import unit_of_work
from app.extensions import db
from app.models import Enrolment, EnrolmentStatus, OutboxMessage, TrainingSession, User
from app.services import training
from tests.concurrency import run_together
from tests.factories import NOW

E = EnrolmentStatus


def test_twenty_concurrent_sign_ups_for_five_seats_seat_five_and_queue_fifteen_in_order(
    app, session, ctx, make_training, make_user
):
    course_id = make_training(capacity=5).id
    user_ids = [make_user().id for _ in range(20)]
    session.commit()  # the test's own connection goes back to the pool

    def sign_up(user_id: int) -> Callable[[], None]:
        return lambda: training.sign_up(
            db.session, ctx(db.session.get(User, user_id)), training=db.session.get(TrainingSession, course_id)
        )

    outcomes = run_together(app, [sign_up(uid) for uid in user_ids])

    assert outcomes == ["done"] * 20  # every sign-up goes through, seated or waiting
    session.expire_all()
    rows = session.scalars(select(Enrolment).order_by(Enrolment.id)).all()
    assert len(rows) == 20
    assert sum(r.status == E.REGISTERED for r in rows) == 5
    waiting = training.waitlist(session, course_id)
    assert len(waiting) == 15
    # Arrival order is the order in which sign-ups got the session: the order they were written.
    assert [e.id for e in waiting] == sorted(e.id for e in waiting)
    assert [training.waitlist_positions(session, waiting)[e.id] for e in waiting] == list(range(1, 16))
    assert all(r.status == E.REGISTERED for r in rows[:5])


def test_concurrent_cancellations_promote_exactly_one_person_per_freed_seat(
    app, session, ctx, make_training, make_user
):
    """Five seated people leave at once, and an admin cancels two of them at the same time:
    five seats are freed, so exactly the first five of the queue are promoted and told once."""
    course = make_training(capacity=5)
    admin_id = make_user(roles={"admin"}).id
    seated = [make_user() for _ in range(5)]
    queued = [make_user() for _ in range(8)]
    for minute, person in enumerate(seated + queued):
        with unit_of_work(session):
            training.sign_up(session, ctx(person, now=NOW + timedelta(minutes=minute)), training=course)
    seats = session.scalars(select(Enrolment).where(Enrolment.is_seated).order_by(Enrolment.id))
    leaving = [(e.user_id, e.id) for e in seats]
    queued_ids = [person.id for person in queued]
    session.commit()
    later = NOW + timedelta(days=1)

    def cancel(actor_id: int, enrolment_id: int) -> Callable[[], None]:
        def job() -> None:
            actor, enrolment = db.session.get(User, actor_id), db.session.get(Enrolment, enrolment_id)
            training.cancel_enrolment(db.session, ctx(actor, now=later), enrolment=enrolment)

        return job

    jobs = [cancel(user_id, enrolment_id) for user_id, enrolment_id in leaving]
    jobs += [cancel(admin_id, enrolment_id) for _user_id, enrolment_id in leaving[:2]]
    outcomes = run_together(app, jobs)

    # Each enrolment is cancelled once; the second attempt on it finds it cancelled already.
    assert sorted(outcomes) == ["conflict"] * 2 + ["done"] * 5
    session.expire_all()
    statuses = dict(session.execute(select(Enrolment.user_id, Enrolment.status)).all())
    assert [statuses[uid] for uid in queued_ids] == [E.REGISTERED] * 5 + [E.WAITLISTED] * 3
    assert training.seated_count(session, course.id) == 5
    told = [m.to_address for m in session.scalars(select(OutboxMessage)) if "place s'est libérée" in m.subject]
    assert sorted(told) == sorted(p.email for p in queued[:5])
