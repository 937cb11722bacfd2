"""Property: any sequence of sign-ups, cancellations and capacity changes keeps the seats honest."""

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.db import unit_of_work
from app.extensions import db
from app.models import Enrolment, TrainingSession
from app.services import training
from app.services.errors import DomainError
from tests import factories
from tests.conftest import _empty_tables
from tests.factories import NOW

steps = st.lists(
    st.tuples(
        st.sampled_from(["sign_up", "sign_up", "sign_up", "cancel", "capacity"]),
        st.integers(min_value=0, max_value=7),  # person
        st.integers(min_value=-1, max_value=6),  # new capacity
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=steps)
def test_registered_never_exceed_capacity_and_the_waitlist_keeps_arrival_order(app, ctx, sequence):
    with app.app_context():
        _empty_tables()
        session = db.session
        trainer = factories.make_user(session, roles={"trainer"})
        course = factories.make_training(session, capacity=2, trainer=trainer)
        people = [factories.make_user(session) for _ in range(8)]
        arrivals: dict[int, int] = {}  # user id → tick of their latest sign-up
        for tick, (action, who, capacity) in enumerate(sequence):
            now = NOW + timedelta(minutes=tick)
            person = people[who]
            try:
                with unit_of_work(session):
                    if action == "sign_up":
                        training.sign_up(session, ctx(person, now=now), training=course)
                        arrivals[person.id] = tick
                    elif action == "cancel":
                        enrolment = training.enrolment_of(session, course.id, person)
                        if enrolment is not None:
                            training.cancel_enrolment(session, ctx(person, now=now), enrolment=enrolment)
                    else:
                        values = {n: getattr(course, n) for n in training.SessionFields.__dataclass_fields__}
                        values["capacity"] = capacity
                        training.update_session(
                            session,
                            ctx(trainer, now=now),
                            training=course,
                            fields=training.SessionFields(**values),
                            advised=[],
                        )
            except DomainError:
                pass  # refused: the unit of work rolled back, and the invariants must still hold
            seated = training.seated_count(session, course.id)
            capacity_now = session.get(TrainingSession, course.id).capacity
            waiting = training.waitlist(session, course.id)
            assert seated <= capacity_now
            # Nobody waits while a seat is free (before the deadline, as here).
            assert not waiting or seated == capacity_now
            assert [e.user_id for e in waiting] == sorted((e.user_id for e in waiting), key=lambda uid: arrivals[uid])
            assert len({e.user_id for e in session.scalars(select(Enrolment))}) == len(
                session.scalars(select(Enrolment)).all()
            )
        db.session.remove()
