"""The small rules a person trips on: dates in the past, a trainer's own session, closures that
clash, and words as a French reader expects them (départements, durations)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import unit_of_work
from app.models import Blackout, Departement
from app.services import blackouts, durations, training
from app.services.blackouts import ClosureConflict
from app.services.errors import RuleViolation
from app.services.places import IN_DEPARTEMENT, in_departement_fr
from tests.factories import NOW


def test_every_departement_of_the_region_has_its_article_and_preposition(session):
    codes = set(session.scalars(select(Departement.code)))
    assert set(IN_DEPARTEMENT) == codes
    assert in_departement_fr("34", "Hérault") == "dans l'Hérault"
    assert in_departement_fr("09", "Ariège") == "en Ariège"
    assert in_departement_fr("30", "Gard") == "dans le Gard"
    assert in_departement_fr("66", "Pyrénées-Orientales") == "dans les Pyrénées-Orientales"


@pytest.mark.parametrize(
    ("hours", "said"),
    [(168, "7 jours"), (24, "1 jour"), (36, "36 heures"), (1, "1 heure"), (12, "12 heures")],
)
def test_a_duration_reads_in_days_when_it_is_whole_days(app, hours, said):
    with app.test_request_context():
        assert durations.words(hours) == said
    assert durations.to_hours(*durations.in_unit(hours)) == hours


def _fields(make_training, **overrides) -> training.SessionFields:
    course = make_training()
    values = {name: getattr(course, name) for name in training.SessionFields.__dataclass_fields__}
    values.update(overrides)
    return training.SessionFields(**values)


def test_a_session_dated_in_the_past_is_refused(session, ctx, make_user, make_training):
    trainer = make_user(roles={"trainer"})
    past = NOW - timedelta(days=1)
    fields = _fields(make_training, starts_at=past, ends_at=past + timedelta(hours=2), registration_deadline=past)
    with pytest.raises(RuleViolation) as refused, unit_of_work(session):
        training.create_session(session, ctx(trainer), fields=fields, advised=[])
    assert refused.value.field == "starts_at"


def test_moving_a_session_into_the_past_is_refused_but_editing_a_past_one_is_not(
    session, ctx, make_user, make_training
):
    trainer = make_user(roles={"trainer"})
    course = make_training(trainer=trainer, starts_at=NOW + timedelta(days=5))
    past = NOW - timedelta(days=1)
    moved = _fields(make_training, topic_id=course.topic_id, starts_at=past, ends_at=past + timedelta(hours=2))
    moved = training.SessionFields(**{**moved.__dict__, "registration_deadline": past - timedelta(hours=1)})
    with pytest.raises(RuleViolation), unit_of_work(session):
        training.update_session(session, ctx(trainer), training=course, fields=moved, advised=[])
    held = make_training(trainer=trainer, starts_at=NOW - timedelta(days=3))
    same_dates = _fields(
        make_training, **{n: getattr(held, n) for n in ("starts_at", "ends_at", "registration_deadline")}
    )
    with unit_of_work(session):
        training.update_session(
            session,
            ctx(trainer),
            training=held,
            fields=training.SessionFields(**{**same_dates.__dict__, "title": "Bilan"}),
            advised=[],
        )
    assert held.title == "Bilan"


def test_a_trainer_takes_no_seat_in_her_own_session(session, ctx, make_user, make_training):
    trainer = make_user(roles={"trainer"})
    own = make_training(trainer=trainer)
    with pytest.raises(RuleViolation, match="Vous animez cette session"), unit_of_work(session):
        training.sign_up(session, ctx(trainer), training=own)


def test_a_closure_in_the_past_is_refused(session, ctx, make_user):
    host = make_user(hosts=("31",))
    with pytest.raises(RuleViolation) as refused, unit_of_work(session):
        blackouts.create(
            session,
            ctx(host),
            departement_code="31",
            starts_at=NOW - timedelta(days=5),
            ends_at=NOW - timedelta(days=2),
            reason="Inventaire",
        )
    assert refused.value.field == "ends_at"
    assert session.scalar(select(Blackout)) is None


def test_a_closure_clashing_with_bookings_names_each_and_hands_them_to_the_page(
    session, ctx, make_user, make_resource, make_booking
):
    host = make_user(hosts=("31",))
    camera = make_resource(name="Caméra Sony", departement_code="31")
    member = make_user(display_name="Léa Fabre")
    booked = [
        make_booking(
            resource=camera,
            user=member,
            starts_at=NOW + timedelta(days=day),
            ends_at=NOW + timedelta(days=day, hours=4),
        )
        for day in (2, 4)
    ]
    with pytest.raises(ClosureConflict) as refused, unit_of_work(session):
        blackouts.create(
            session,
            ctx(host),
            departement_code="31",
            starts_at=NOW + timedelta(days=1),
            ends_at=NOW + timedelta(days=6),
            reason="Congés",
        )
    message = refused.value.message
    assert message.startswith("2 réservations tombent dans cette période")
    assert all(f"n° {b.id}, Caméra Sony pour Léa Fabre" in message for b in booked)
    assert [b.id for b in refused.value.bookings] == [b.id for b in booked]


def test_the_demo_names_its_categories_topics_and_themes_in_english(runner, session):
    from app.models import AgendaTheme, Category, TrainingTopic

    assert runner.invoke(args=["seed-demo", "--if-empty"]).exit_code == 0
    assert session.scalar(select(Category.name_plural_en).where(Category.slug == "camera")) == "Cameras"
    assert "" not in set(session.scalars(select(Category.name_en)))
    assert "" not in set(session.scalars(select(TrainingTopic.name_en)))
    assert session.scalar(select(AgendaTheme.name_en).where(AgendaTheme.slug == "tourisme")) == "Science tourism"
