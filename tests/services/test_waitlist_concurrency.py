"""Waitlist promotions under concurrency, on SQLite (BEGIN IMMEDIATE) and PostgreSQL (row locks).

Two units freeing at once for one person waiting give that person one hold, not two; a slot
freed while someone books it directly goes to one of them, never both.
"""

from datetime import timedelta

from sqlalchemy import select

from app.models import Booking, BookingStatus, Wish, WishStatus
from app.services import booking, waitlist
from tests.concurrency import run_together
from tests.factories import NOW, ctx

S = BookingStatus
START, END = NOW + timedelta(days=3), NOW + timedelta(days=3, hours=4)


def cancel_job(app, booking_id: int, user_id: int):
    def job() -> None:
        from app.extensions import db
        from app.models import User

        session = db.session
        booking.cancel(session, ctx(session.get(User, user_id)), booking=session.get(Booking, booking_id))

    return job


def test_two_units_freeing_at_once_give_the_one_person_waiting_exactly_one_hold(
    app, session, make_category, make_resource, make_booking, make_user
):
    kind = make_category(name="Micro HF")
    units = [make_resource(category=kind) for _ in range(2)]
    holders = [make_user() for _ in units]
    held = [make_booking(resource=u, user=h, starts_at=START, ends_at=END) for u, h in zip(units, holders, strict=True)]
    lea = make_user()
    waitlist.wish(session, ctx(lea), category=kind, starts_at=START, ends_at=END)
    session.commit()

    outcomes = run_together(
        app, [cancel_job(app, b.id, h.id) for b, h in zip(held, holders, strict=True)], session=session
    )

    assert outcomes == ["done", "done"]
    session.expire_all()
    holds = session.scalars(select(Booking).where(Booking.status == S.PROPOSED)).all()
    assert [h.user_id for h in holds] == [lea.id]
    assert session.scalar(select(Wish)).status is WishStatus.OFFERED


def test_a_slot_freed_while_someone_books_it_goes_to_one_of_them_never_both(
    app, session, make_category, make_resource, make_booking, make_user
):
    camera = make_resource(category=make_category(needs_approval=False))
    first = make_user()
    taken = make_booking(resource=camera, user=first, starts_at=START, ends_at=END)
    waitlist.wish(session, ctx(make_user()), resource=camera, starts_at=START, ends_at=END)
    session.commit()
    bookers = [make_user().id for _ in range(4)]
    camera_id = camera.id  # read here: the test's session is not the threads' to use

    def book(user_id: int):
        def job() -> None:
            from app.extensions import db
            from app.models import Resource, User

            s = db.session
            booking.create(
                s,
                ctx(s.get(User, user_id)),
                resource=s.get(Resource, camera_id),
                starts_at=START,
                ends_at=END,
                purpose="",
            )

        return job

    outcomes = run_together(app, [cancel_job(app, taken.id, first.id), *(book(u) for u in bookers)], session=session)

    assert not [o for o in outcomes if o.startswith("error")], outcomes
    session.expire_all()
    holding = session.scalars(select(Booking).where(Booking.resource_id == camera_id, Booking.is_holding)).all()
    assert len(holding) == 1
