"""Training sign-ups: capacity, a first-come waitlist that promotes itself, attendance, who may do what."""

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from app.db import unit_of_work
from app.extensions import db
from app.models import AuditEntry, Enrolment, EnrolmentStatus, OutboxMessage, TrainingSession
from app.services import training
from app.services.errors import Conflict, Forbidden, NotFound, RuleViolation
from tests.factories import NOW

E = EnrolmentStatus


def at(days: float = 0, hours: float = 0):
    return NOW + timedelta(days=days, hours=hours)


@pytest.fixture
def sign(session, ctx):
    """`sign(person, course, now=…)`: one sign-up, in its own unit of work."""

    def sign_up(user, course, now=NOW):
        with unit_of_work(session):
            return training.sign_up(session, ctx(user, now=now), training=course)

    return sign_up


@pytest.fixture
def leave(session, ctx):
    def cancel(user, enrolment, now=NOW):
        with unit_of_work(session):
            return training.cancel_enrolment(session, ctx(user, now=now), enrolment=enrolment)

    return cancel


def fields(course, **overrides) -> training.SessionFields:
    values = {name: getattr(course, name) for name in training.SessionFields.__dataclass_fields__}
    values.update(overrides)
    return training.SessionFields(**values)


def status_of(session, enrolment) -> EnrolmentStatus:
    return session.scalar(select(Enrolment.status).where(Enrolment.id == enrolment.id))


# Seats and the waitlist -----------------------------------------------------------------


def test_sign_ups_fill_the_seats_then_the_waitlist_and_a_cancellation_promotes_exactly_the_first(
    session, make_training, make_user, sign, leave
):
    course = make_training(capacity=3)
    people = [make_user(display_name=f"Personne {i}") for i in range(5)]
    enrolments = [sign(person, course, now=at(hours=i)) for i, person in enumerate(people)]
    assert [e.status for e in enrolments] == [E.REGISTERED] * 3 + [E.WAITLISTED] * 2
    assert training.waitlist_position(session, enrolments[3]) == 1
    assert training.waitlist_position(session, enrolments[4]) == 2

    promoted = leave(people[1], enrolments[1], now=at(1))
    assert [e.user_id for e in promoted] == [people[3].id]
    assert status_of(session, enrolments[3]) == E.REGISTERED
    assert status_of(session, enrolments[4]) == E.WAITLISTED
    assert training.waitlist_position(session, session.get(Enrolment, enrolments[4].id)) == 1
    mails = session.scalars(select(OutboxMessage)).all()
    assert [m.to_address for m in mails] == [people[3].email]
    assert "place s'est libérée" in mails[0].subject
    assert mails[0].ics and "enrolment-" in mails[0].ics and "@localhost" in mails[0].ics
    assert training.seated_count(session, course.id) == 3


def test_a_promotion_is_recorded_as_the_systems_doing_and_the_cancellation_as_the_persons(
    session, make_training, make_user, sign, leave
):
    course = make_training(capacity=1)
    first, second = make_user(), make_user()
    seat = sign(first, course)
    waiting = sign(second, course)
    leave(first, seat, now=at(1))
    audited = session.scalars(select(AuditEntry).where(AuditEntry.subject_type == "enrolment"))
    entries = {(e.subject_id, e.action): e for e in audited}
    cancelled = entries[(seat.id, "cancel")]
    assert (cancelled.actor_id, cancelled.from_state, cancelled.to_state) == (first.id, "registered", "cancelled")
    promoted = entries[(waiting.id, "promote")]
    assert (promoted.actor_id, promoted.from_state, promoted.to_state) == (None, "waitlisted", "registered")
    assert session.get(Enrolment, waiting.id).promoted_at == at(1)


def test_leaving_the_waitlist_promotes_nobody(session, make_training, make_user, sign, leave):
    course = make_training(capacity=1)
    first, second = make_user(), make_user()
    sign(first, course)
    waiting = sign(second, course)
    assert leave(second, waiting, now=at(1)) == []
    assert training.seated_count(session, course.id) == 1


def test_an_enrolment_already_cancelled_cannot_be_cancelled_again(session, make_training, make_user, sign, leave):
    course, person = make_training(), make_user()
    enrolment = sign(person, course)
    leave(person, enrolment, now=at(1))
    with pytest.raises(Conflict):
        leave(person, enrolment, now=at(1, 1))


def test_after_the_deadline_nobody_is_promoted(session, make_training, make_user, sign, leave):
    course = make_training(capacity=1, starts_at=at(10))
    first, second = make_user(), make_user()
    seat = sign(first, course)
    sign(second, course)
    assert leave(first, seat, now=at(9, 12)) == []
    assert [e.user_id for e in training.waitlist(session, course.id)] == [second.id]


def test_raising_the_capacity_promotes_from_the_waitlist_in_order(session, ctx, make_training, make_user, sign):
    trainer = make_user(roles={"trainer"})
    course = make_training(capacity=1, trainer=trainer)
    people = [make_user() for _ in range(4)]
    for i, person in enumerate(people):
        sign(person, course, now=at(hours=i))
    with unit_of_work(session):
        promoted = training.update_session(
            session, ctx(trainer, now=at(1)), training=course, fields=fields(course, capacity=3), advised=[]
        )
        promoted_ids = [e.user_id for e in promoted]
    assert promoted_ids == [people[1].id, people[2].id]
    assert [e.user_id for e in training.waitlist(session, course.id)] == [people[3].id]


def test_capacity_cannot_drop_below_who_is_already_registered(session, ctx, make_training, make_user, sign):
    trainer = make_user(roles={"trainer"})
    course = make_training(capacity=3, trainer=trainer)
    for _ in range(3):
        sign(make_user(), course)
    with pytest.raises(RuleViolation), unit_of_work(session):
        training.update_session(session, ctx(trainer), training=course, fields=fields(course, capacity=2), advised=[])
    assert session.get(TrainingSession, course.id).capacity == 3


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
def test_a_session_with_impossible_fields_is_refused_and_unchanged(
    session, ctx, make_training, make_user, overrides, field
):
    trainer = make_user(roles={"trainer"})
    course = make_training(trainer=trainer, starts_at=at(10), capacity=4)
    with pytest.raises(RuleViolation) as refused, unit_of_work(session):
        training.update_session(session, ctx(trainer), training=course, fields=fields(course, **overrides), advised=[])
    assert refused.value.field == field
    assert session.get(TrainingSession, course.id).capacity == 4


def test_enrolling_twice_is_refused(session, make_training, make_user, sign):
    course, person = make_training(), make_user()
    sign(person, course)
    with pytest.raises(Conflict):
        sign(person, course)
    assert len(session.scalars(select(Enrolment)).all()) == 1


def test_coming_back_after_cancelling_goes_to_the_end_of_the_queue(session, make_training, make_user, sign, leave):
    course = make_training(capacity=1)
    first, second, third = make_user(), make_user(), make_user()
    sign(first, course, now=at(hours=1))
    mine = sign(second, course, now=at(hours=2))
    sign(third, course, now=at(hours=3))
    leave(second, mine, now=at(hours=4))
    again = sign(second, course, now=at(hours=5))
    assert again.id == mine.id  # one row per person and session
    assert [e.user_id for e in training.waitlist(session, course.id)] == [third.id, second.id]


@pytest.mark.parametrize("when", ["after_deadline", "started", "cancelled", "not_open"])
def test_sign_up_is_refused_when_registration_is_not_open(session, ctx, make_training, make_user, sign, when):
    trainer = make_user(roles={"trainer"})
    course = make_training(
        trainer=trainer, starts_at=at(10), registration_opens_at=at(2) if when == "not_open" else None
    )
    now = {"after_deadline": at(9, 12), "started": at(10, 1), "cancelled": NOW, "not_open": at(1)}[when]
    if when == "cancelled":
        with unit_of_work(session):
            training.cancel_session(session, ctx(trainer), training=course, reason="Formatrice malade")
    with pytest.raises(RuleViolation):
        sign(make_user(), course, now=now)
    assert session.scalars(select(Enrolment)).all() == []


def test_nobody_logged_in_cannot_sign_up(session, ctx, make_training):
    course = make_training()
    with pytest.raises(Forbidden), unit_of_work(session):
        training.sign_up(session, ctx(None), training=course)
    assert session.scalars(select(Enrolment)).all() == []


def test_a_sign_up_and_a_refused_call_in_one_unit_of_work_leave_nothing(session, ctx, make_training, make_user):
    course, person = make_training(), make_user()
    with pytest.raises(Conflict), unit_of_work(session):
        training.sign_up(session, ctx(person), training=course)
        training.sign_up(session, ctx(person), training=course)
    assert session.scalars(select(Enrolment)).all() == []
    assert session.scalars(select(AuditEntry)).all() == []


def test_cancelling_the_session_tells_everyone_registered_or_waiting(session, ctx, make_training, make_user, sign):
    trainer = make_user(roles={"trainer"})
    course = make_training(capacity=2, trainer=trainer)
    people = [make_user() for _ in range(3)]
    for person in people:
        sign(person, course)
    with unit_of_work(session):
        told = training.cancel_session(session, ctx(trainer, now=at(1)), training=course, reason="Salle indisponible")
    assert told == 3
    mails = session.scalars(select(OutboxMessage)).all()
    assert sorted(m.to_address for m in mails) == sorted(p.email for p in people)
    assert all("Salle indisponible" in m.body_text for m in mails)
    refreshed = session.get(TrainingSession, course.id)
    assert refreshed.cancelled_at == at(1) and refreshed.sequence == 1


def test_attendance_marks_exactly_the_ticked_participants(session, ctx, make_training, make_user, sign):
    trainer = make_user(roles={"trainer"})
    course = make_training(capacity=3, trainer=trainer, starts_at=at(10))
    came, absent = make_user(), make_user()
    sign(came, course)
    sign(absent, course)

    def mark(ids, now):
        with unit_of_work(session):
            training.mark_attendance(session, ctx(trainer, now=now), training=course, attended_user_ids=ids)

    with pytest.raises(RuleViolation):  # before it starts
        mark({came.id}, at(9))
    with pytest.raises(RuleViolation):  # someone who is not a participant
        mark({came.id, make_user().id}, at(10, 1))
    mark({came.id}, at(10, 1))
    statuses = dict(session.execute(select(Enrolment.user_id, Enrolment.status)).all())
    assert statuses == {came.id: E.ATTENDED, absent.id: E.REGISTERED}


def test_a_message_reaches_every_registered_participant(session, ctx, make_training, make_user, sign):
    trainer = make_user(roles={"trainer"}, display_name="Sofia Roux")
    course = make_training(capacity=1, trainer=trainer)
    seated, waiting = make_user(), make_user()
    sign(seated, course)
    sign(waiting, course)
    with unit_of_work(session):
        sent = training.message_participants(
            session, ctx(trainer), training=course, subject="À apporter", body="Votre ordinateur portable."
        )
    assert sent == 1
    [mail] = session.scalars(select(OutboxMessage)).all()
    assert mail.to_address == seated.email and "Sofia Roux" in mail.body_text


def test_waitlist_positions_of_all_of_someones_enrolments_take_one_query(session, make_training, make_user, sign):
    person = make_user()
    courses = [make_training(capacity=1, starts_at=at(5 + i)) for i in range(4)]
    for i, course in enumerate(courses):
        sign(make_user(), course)  # takes the one seat
        for _ in range(i):  # and i people queue before our person
            sign(make_user(), course)
    for course in [*courses, make_training(capacity=5)]:
        sign(person, course)
    mine = training.enrolments_of(session, person)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        positions = training.waitlist_positions(session, mine)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1
    by_course = {e.session_id: positions.get(e.id) for e in mine}
    assert [by_course[c.id] for c in courses] == [1, 2, 3, 4]
    assert len(positions) == 4  # the seated enrolment has no place in a queue


# Who may run a session -------------------------------------------------------------------


@pytest.fixture
def outsider(make_user, request):
    return make_user(roles={"trainer"} if request.param == "another trainer" else set())


@pytest.mark.parametrize("outsider", ["another trainer", "a member"], indirect=True)
def test_only_the_sessions_trainer_or_an_admin_edits_it(session, ctx, make_training, outsider):
    course = make_training(title="Titre d'origine", capacity=3)
    with pytest.raises(Forbidden), unit_of_work(session):
        training.update_session(
            session, ctx(outsider), training=course, fields=fields(course, title="Piraté", capacity=9), advised=[]
        )
    unchanged = session.get(TrainingSession, course.id)
    assert (unchanged.title, unchanged.capacity, unchanged.sequence) == ("Titre d'origine", 3, 0)


@pytest.mark.parametrize("outsider", ["another trainer", "a member"], indirect=True)
def test_only_the_sessions_trainer_or_an_admin_cancels_it(session, ctx, make_training, make_user, outsider, sign):
    course = make_training()
    sign(make_user(), course)
    with pytest.raises(Forbidden), unit_of_work(session):
        training.cancel_session(session, ctx(outsider), training=course, reason="Je n'en veux pas")
    assert not session.get(TrainingSession, course.id).is_cancelled
    assert session.scalars(select(OutboxMessage)).all() == []


@pytest.mark.parametrize("outsider", ["another trainer", "a member"], indirect=True)
def test_only_the_sessions_trainer_or_an_admin_marks_attendance_or_writes_to_participants(
    session, ctx, make_training, make_user, outsider, sign
):
    course = make_training(starts_at=at(10))
    learner = make_user()
    sign(learner, course)
    with pytest.raises(Forbidden), unit_of_work(session):
        training.mark_attendance(session, ctx(outsider, now=at(10, 1)), training=course, attended_user_ids={learner.id})
    with pytest.raises(Forbidden), unit_of_work(session):
        training.message_participants(session, ctx(outsider), training=course, subject="Pub", body="Achetez !")
    assert session.scalar(select(Enrolment.status)) == E.REGISTERED
    assert session.scalars(select(OutboxMessage)).all() == []


@pytest.mark.parametrize("who", ["its trainer", "an admin"])
def test_the_sessions_trainer_and_an_admin_edit_and_cancel_it(session, ctx, make_training, make_user, who):
    trainer = make_user(roles={"trainer"})
    course = make_training(trainer=trainer, capacity=3)
    actor = trainer if who == "its trainer" else make_user(roles={"admin"})
    with unit_of_work(session):
        training.update_session(session, ctx(actor), training=course, fields=fields(course, capacity=5), advised=[])
    with unit_of_work(session):
        training.cancel_session(session, ctx(actor, now=at(1)), training=course, reason="Reportée")
    done = session.get(TrainingSession, course.id)
    assert done.capacity == 5 and done.is_cancelled and done.sequence == 2


def test_a_member_cannot_create_a_session(session, ctx, make_user, make_training):
    course = make_training()
    with pytest.raises(Forbidden), unit_of_work(session):
        training.create_session(session, ctx(make_user()), fields=fields(course), advised=[])
    assert len(session.scalars(select(TrainingSession)).all()) == 1


def test_nobody_cancels_someone_elses_enrolment(session, make_training, make_user, sign, leave):
    course, person = make_training(), make_user()
    enrolment = sign(person, course)
    with pytest.raises(Forbidden):
        leave(make_user(), enrolment)
    assert status_of(session, enrolment) == E.REGISTERED


# Certificates ----------------------------------------------------------------------------


@pytest.fixture
def attended(session, ctx, make_training, make_user, sign):
    """A session that took place, its trainer, one person who came and one who did not."""
    trainer = make_user(roles={"trainer"})
    course = make_training(trainer=trainer, starts_at=at(10))
    came, absent = make_user(), make_user()
    sign(came, course)
    sign(absent, course)
    with unit_of_work(session):
        training.mark_attendance(session, ctx(trainer, now=at(10, 1)), training=course, attended_user_ids={came.id})
    return course, trainer, came, absent


def test_a_participant_who_attended_gets_their_certificate(session, ctx, attended):
    course, _trainer, came, _absent = attended
    enrolment = training.certificate_for(session, ctx(came, now=at(11)), training=course, user_id=came.id)
    assert enrolment.user_id == came.id and enrolment.status == E.ATTENDED


@pytest.mark.parametrize("who", ["its trainer", "an admin"])
def test_the_sessions_trainer_and_an_admin_get_a_participants_certificate(session, ctx, make_user, attended, who):
    course, trainer, came, _absent = attended
    actor = trainer if who == "its trainer" else make_user(roles={"admin"})
    assert training.certificate_for(session, ctx(actor), training=course, user_id=came.id).user_id == came.id


@pytest.mark.parametrize("who", ["another participant", "a member", "another trainer"])
def test_nobody_else_gets_someone_elses_certificate(session, ctx, make_user, attended, who):
    course, _trainer, came, absent = attended
    actor = {
        "another participant": absent,
        "a member": make_user(),
        "another trainer": make_user(roles={"trainer"}),
    }[who]
    with pytest.raises(Forbidden):
        training.certificate_for(session, ctx(actor), training=course, user_id=came.id)


def test_there_is_no_certificate_without_attendance(session, ctx, make_user, attended):
    course, trainer, _came, absent = attended
    with pytest.raises(NotFound):
        training.certificate_for(session, ctx(absent), training=course, user_id=absent.id)
    with pytest.raises(NotFound):  # not even for the trainer, nor for someone never enrolled
        training.certificate_for(session, ctx(trainer), training=course, user_id=make_user().id)
    with pytest.raises(Forbidden):
        training.certificate_for(session, ctx(None), training=course, user_id=absent.id)


def test_an_account_not_yet_approved_cannot_take_a_seat(session, make_training, make_user, sign):
    pending = make_user(approved=False)
    with pytest.raises(Forbidden, match="validé"):
        sign(pending, make_training())
    assert session.scalars(select(Enrolment)).all() == []
