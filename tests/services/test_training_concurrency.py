"""Twenty people sign up at once for five seats: five registered, fifteen waiting, in order."""

import threading

from sqlalchemy import select

from app.extensions import db
from app.models import Enrolment, TrainingSession, User
from app.services import training
from tests.factories import NOW


def test_twenty_concurrent_sign_ups_for_five_seats(app, session, make_training, make_user):
    course = make_training(capacity=5)
    course_id = course.id
    user_ids = [make_user().id for _ in range(20)]
    session.commit()
    barrier = threading.Barrier(20)
    errors: list[str] = []

    def sign_up(user_id: int) -> None:
        barrier.wait()
        with app.app_context():
            try:
                training.sign_up(
                    db.session,
                    actor=db.session.get(User, user_id),
                    training=db.session.get(TrainingSession, course_id),
                    now=NOW,
                )
            except Exception as exc:  # every sign-up must go through, seated or waiting
                errors.append(f"{type(exc).__name__}: {exc}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sign_up, args=(uid,)) for uid in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    session.expire_all()
    rows = session.scalars(select(Enrolment).order_by(Enrolment.id)).all()
    assert len(rows) == 20
    assert sum(r.status == "registered" for r in rows) == 5
    waiting = training.waitlist(session, course_id)
    assert len(waiting) == 15
    # Arrival order is the order in which sign-ups got the session: the order they were written.
    assert [e.id for e in waiting] == sorted(e.id for e in waiting)
    assert [training.waitlist_position(session, e) for e in waiting] == list(range(1, 16))
    assert all(r.status == "registered" for r in rows[:5])
