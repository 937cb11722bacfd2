"""Training sign-ups: capacity, a first-come waitlist that promotes itself, attendance."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import Enrolment, OutboxMessage
from app.services import training
from app.services.errors import Conflict, Forbidden, RuleViolation
from tests.factories import NOW


def at(days=0, hours=0):
    return NOW + timedelta(days=days, hours=hours)


def sign(session, user, course, now=NOW):
    return training.sign_up(session, actor=user, training=course, now=now)


def fields(course, **overrides) -> training.SessionFields:
    values = {name: getattr(course, name) for name in training.SessionFields.__dataclass_fields__}
    values.update(overrides)
    return training.SessionFields(**values)


def test_sign_ups_fill_the_seats_then_the_waitlist_and_a_cancellation_promotes_exactly_the_first(
    session, make_training, make_user
):
    course = make_training(capacity=3)
    people = [make_user(display_name=f"Personne {i}") for i in range(5)]
    enrolments = [sign(session, person, course, now=at(hours=i)) for i, person in enumerate(people)]
    assert [e.status for e in enrolments] == ["registered"] * 3 + ["waitlisted"] * 2
    assert training.waitlist_position(session, enrolments[3]) == 1
    assert training.waitlist_position(session, enrolments[4]) == 2

    promoted = training.cancel_enrolment(session, actor=people[1], enrolment=enrolments[1], now=at(1))
    assert [e.user_id for e in promoted] == [people[3].id]
    session.expire_all()
    assert session.get(Enrolment, enrolments[3].id).status == "registered"
    assert session.get(Enrolment, enrolments[4].id).status == "waitlisted"
    assert training.waitlist_position(session, session.get(Enrolment, enrolments[4].id)) == 1
    mails = session.scalars(select(OutboxMessage)).all()
    assert [m.to_address for m in mails] == [people[3].email]
    assert "place s'est libérée" in mails[0].subject
    assert training.seated_count(session, course.id) == 3


def test_leaving_the_waitlist_promotes_nobody(session, make_training, make_user):
    course = make_training(capacity=1)
    first, second = make_user(), make_user()
    sign(session, first, course)
    waiting = sign(session, second, course)
    assert training.cancel_enrolment(session, actor=second, enrolment=waiting, now=at(1)) == []
    assert training.seated_count(session, course.id) == 1


def test_after_the_deadline_nobody_is_promoted(session, make_training, make_user):
    course = make_training(capacity=1, starts_at=at(10))
    first, second = make_user(), make_user()
    seat = sign(session, first, course)
    sign(session, second, course)
    assert training.cancel_enrolment(session, actor=first, enrolment=seat, now=at(9, 12)) == []
    assert [e.user_id for e in training.waitlist(session, course.id)] == [second.id]


def test_raising_the_capacity_promotes_from_the_waitlist_in_order(session, make_training, make_user):
    trainer = make_user(roles={"trainer"})
    course = make_training(capacity=1, trainer=trainer)
    people = [make_user() for _ in range(4)]
    for i, person in enumerate(people):
        sign(session, person, course, now=at(hours=i))
    promoted = training.update_session(
        session, actor=trainer, training=course, fields=fields(course, capacity=3), advised=[], now=at(1)
    )
    assert [e.user_id for e in promoted] == [people[1].id, people[2].id]
    assert [e.user_id for e in training.waitlist(session, course.id)] == [people[3].id]


def test_capacity_cannot_drop_below_who_is_already_registered(session, make_training, make_user):
    trainer = make_user(roles={"trainer"})
    course = make_training(capacity=3, trainer=trainer)
    for _ in range(3):
        sign(session, make_user(), course)
    with pytest.raises(RuleViolation):
        training.update_session(
            session, actor=trainer, training=course, fields=fields(course, capacity=2), advised=[], now=NOW
        )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"capacity": 0}, "capacity"),
        ({"capacity": -3}, "capacity"),
        ({"ends_at": at(9)}, "ends_at"),
        ({"registration_deadline": at(11)}, "registration_deadline"),
        ({"video_link": None}, "video_link"),
        ({"mode": "in_person", "place": None}, "place"),
    ],
)
def test_a_session_with_impossible_fields_is_refused_and_unchanged(session, make_training, make_user, overrides, field):
    trainer = make_user(roles={"trainer"})
    course = make_training(trainer=trainer, starts_at=at(10), capacity=4)
    with pytest.raises(RuleViolation) as refused:
        training.update_session(
            session, actor=trainer, training=course, fields=fields(course, **overrides), advised=[], now=NOW
        )
    assert refused.value.field == field
    session.expire_all()
    assert session.get(type(course), course.id).capacity == 4


def test_enrolling_twice_is_refused(session, make_training, make_user):
    course, person = make_training(), make_user()
    sign(session, person, course)
    with pytest.raises(Conflict):
        sign(session, person, course)
    assert len(session.scalars(select(Enrolment)).all()) == 1


def test_coming_back_after_cancelling_goes_to_the_end_of_the_queue(session, make_training, make_user):
    course = make_training(capacity=1)
    first, second, third = make_user(), make_user(), make_user()
    sign(session, first, course, now=at(hours=1))
    mine = sign(session, second, course, now=at(hours=2))
    sign(session, third, course, now=at(hours=3))
    training.cancel_enrolment(session, actor=second, enrolment=mine, now=at(hours=4))
    again = sign(session, second, course, now=at(hours=5))
    assert again.id == mine.id  # one row per person and session
    assert [e.user_id for e in training.waitlist(session, course.id)] == [third.id, second.id]


@pytest.mark.parametrize("when", ["after_deadline", "started", "cancelled", "not_open"])
def test_sign_up_is_refused_when_registration_is_not_open(session, make_training, make_user, when):
    trainer = make_user(roles={"trainer"})
    course = make_training(
        trainer=trainer, starts_at=at(10), registration_opens_at=at(2) if when == "not_open" else None
    )
    now = {"after_deadline": at(9, 12), "started": at(10, 1), "cancelled": NOW, "not_open": at(1)}[when]
    if when == "cancelled":
        training.cancel_session(session, actor=trainer, training=course, reason="Formatrice malade", now=NOW)
    with pytest.raises(RuleViolation):
        sign(session, make_user(), course, now=now)
    assert session.scalars(select(Enrolment)).all() == []


def test_cancelling_the_session_tells_everyone_registered_or_waiting(session, make_training, make_user):
    trainer = make_user(roles={"trainer"})
    course = make_training(capacity=2, trainer=trainer)
    people = [make_user() for _ in range(3)]
    for person in people:
        sign(session, person, course)
    told = training.cancel_session(session, actor=trainer, training=course, reason="Salle indisponible", now=at(1))
    assert told == 3
    mails = session.scalars(select(OutboxMessage)).all()
    assert sorted(m.to_address for m in mails) == sorted(p.email for p in people)
    assert all("Salle indisponible" in m.body_text for m in mails)


def test_nobody_cancels_someone_elses_enrolment(session, make_training, make_user):
    course, person = make_training(), make_user()
    enrolment = sign(session, person, course)
    with pytest.raises(Forbidden):
        training.cancel_enrolment(session, actor=make_user(), enrolment=enrolment, now=NOW)
    assert enrolment.status == "registered"


def test_a_trainer_manages_only_their_own_sessions(session, make_training, make_user):
    course = make_training()
    other = make_user(roles={"trainer"})
    with pytest.raises(Forbidden):
        training.cancel_session(session, actor=other, training=course, reason="x", now=NOW)
    with pytest.raises(Forbidden):
        training.update_session(session, actor=other, training=course, fields=fields(course), advised=[], now=NOW)
    with pytest.raises(Forbidden):
        training.mark_attendance(session, actor=other, training=course, attended_user_ids=set(), now=at(11))
    training.cancel_session(session, actor=make_user(roles={"admin"}), training=course, reason="Reportée", now=NOW)
    assert course.is_cancelled


def test_a_member_cannot_create_a_session(session, make_user, make_training):
    course = make_training()
    with pytest.raises(Forbidden):
        training.create_session(session, actor=make_user(), fields=fields(course), advised=[], now=NOW)


def test_attendance_marks_exactly_the_ticked_participants(session, make_training, make_user):
    trainer = make_user(roles={"trainer"})
    course = make_training(capacity=3, trainer=trainer, starts_at=at(10))
    came, absent = make_user(), make_user()
    sign(session, came, course)
    sign(session, absent, course)
    with pytest.raises(RuleViolation):  # before it starts
        training.mark_attendance(session, actor=trainer, training=course, attended_user_ids={came.id}, now=at(9))
    with pytest.raises(RuleViolation):  # someone who is not a participant
        training.mark_attendance(
            session, actor=trainer, training=course, attended_user_ids={came.id, make_user().id}, now=at(10, 1)
        )
    training.mark_attendance(session, actor=trainer, training=course, attended_user_ids={came.id}, now=at(10, 1))
    statuses = dict(session.execute(select(Enrolment.user_id, Enrolment.status)).all())
    assert statuses == {came.id: "attended", absent.id: "registered"}


def test_a_message_reaches_every_registered_participant(session, make_training, make_user):
    trainer = make_user(roles={"trainer"}, display_name="Sofia Roux")
    course = make_training(capacity=1, trainer=trainer)
    seated, waiting = make_user(), make_user()
    sign(session, seated, course)
    sign(session, waiting, course)
    sent = training.message_participants(
        session, actor=trainer, training=course, subject="À apporter", body="Votre ordinateur portable.", now=NOW
    )
    assert sent == 1
    [mail] = session.scalars(select(OutboxMessage)).all()
    assert mail.to_address == seated.email and "Sofia Roux" in mail.body_text
