"""Training sessions created as a series: same rules as booking series, deadlines moved with each session."""

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.db import unit_of_work
from app.models import AuditEntry, Recurrence, TrainingSession, TrainingTopic
from app.services import training
from app.services.errors import Forbidden, RuleViolation
from tests.factories import ctx

PARIS = ZoneInfo("Europe/Paris")


def paris(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS).astimezone(UTC)


@pytest.fixture
def trainer(make_user):
    return make_user(roles={"trainer"}, display_name="Inès Formatrice")


@pytest.fixture
def fields(session):
    topic = session.scalar(select(TrainingTopic).order_by(TrainingTopic.id))
    return training.SessionFields(
        topic_id=topic.id,
        title="OBS Studio : premiers pas",
        description="",
        starts_at=paris(2027, 3, 17, 18),  # Wednesday 17 March, 18 h – 20 h Paris
        ends_at=paris(2027, 3, 17, 20),
        mode="online",
        video_link="https://visio.example.org/obs",
        place=None,
        departement_code=None,
        capacity=8,
        registration_deadline=paris(2027, 3, 16, 12),  # the day before at noon
        registration_opens_at=paris(2027, 3, 1, 9),
    )


def local(instant: datetime) -> datetime:
    return instant.astimezone(PARIS).replace(tzinfo=None)


def test_a_weekly_series_shares_its_key_and_moves_deadlines_with_each_session(session, trainer, fields):
    with unit_of_work(session):
        made = training.create_series(
            session, ctx(trainer), fields=fields, advised=[], recurrence=Recurrence.WEEKLY, count=3
        )
    session.expire_all()
    stored = session.scalars(select(TrainingSession).order_by(TrainingSession.starts_at)).all()
    assert [t.id for t in stored] == [t.id for t in made]
    assert {t.series_key for t in stored} == {made[0].id}
    # 18 h Paris every time, across the clock change of 28 March.
    assert [local(t.starts_at) for t in stored] == [datetime(2027, 3, d, 18) for d in (17, 24, 31)]
    assert [local(t.registration_deadline) for t in stored] == [datetime(2027, 3, d, 12) for d in (16, 23, 30)]
    assert [local(t.registration_opens_at) for t in stored] == [datetime(2027, 3, d, 9) for d in (1, 8, 15)]
    assert {t.trainers[0].id for t in stored} == {trainer.id}
    assert [t.id for t in training.series_of(session, stored[1])] == [t.id for t in made]
    assert len(session.scalars(select(AuditEntry).where(AuditEntry.subject_type == "training")).all()) == 3


def test_monthly_series_of_sessions_follow_the_same_rules(session, trainer, fields):
    on_the_31st = replace(
        fields,
        starts_at=paris(2027, 1, 31, 10),
        ends_at=paris(2027, 1, 31, 12),
        registration_deadline=paris(2027, 1, 30, 10),
        registration_opens_at=None,
    )
    with unit_of_work(session):
        made = training.create_series(
            session, ctx(trainer), fields=on_the_31st, advised=[], recurrence=Recurrence.MONTHLY_DATE, count=3
        )
    assert [local(t.starts_at).date() for t in made] == [date(2027, 1, 31), date(2027, 3, 31), date(2027, 5, 31)]
    assert made[1].registration_opens_at is None
    with unit_of_work(session):
        second_wednesdays = training.create_series(
            session,
            ctx(trainer),
            fields=replace(
                fields,
                starts_at=paris(2027, 1, 13, 18),
                ends_at=paris(2027, 1, 13, 20),
                registration_deadline=paris(2027, 1, 12, 12),
                registration_opens_at=None,
            ),
            advised=[],
            recurrence=Recurrence.MONTHLY_WEEKDAY,
            until=date(2027, 3, 31),
        )
    assert [local(t.starts_at).date() for t in second_wednesdays] == [
        date(2027, 1, 13),
        date(2027, 2, 10),
        date(2027, 3, 10),
    ]


@pytest.mark.parametrize(
    ("more", "field"),
    [
        ({"count": 500}, "count"),
        ({"until": date(2027, 3, 1)}, "until"),
        ({"count": 0}, "count"),
        ({}, "count"),
    ],
)
def test_impossible_training_series_store_nothing(session, trainer, fields, more, field):
    with pytest.raises(RuleViolation) as refused, unit_of_work(session):
        training.create_series(session, ctx(trainer), fields=fields, advised=[], recurrence=Recurrence.WEEKLY, **more)
    assert refused.value.field == field
    assert session.scalars(select(TrainingSession)).all() == []


def test_a_session_at_an_hour_that_does_not_exist_one_week_refuses_the_whole_series(session, trainer, fields):
    at_half_past_two = replace(
        fields,
        starts_at=paris(2027, 3, 21, 2, 30),  # a Sunday; the next one, 28 March, skips from 2 h to 3 h
        ends_at=paris(2027, 3, 21, 4),
        registration_deadline=paris(2027, 3, 20, 12),
        registration_opens_at=None,
    )
    with pytest.raises(RuleViolation) as refused, unit_of_work(session):
        training.create_series(
            session, ctx(trainer), fields=at_half_past_two, advised=[], recurrence=Recurrence.WEEKLY, count=3
        )
    assert "changement d'heure" in refused.value.message
    assert session.scalars(select(TrainingSession)).all() == []


def test_only_trainers_and_admins_create_a_series(session, make_user, fields):
    with pytest.raises(Forbidden), unit_of_work(session):
        training.create_series(
            session, ctx(make_user()), fields=fields, advised=[], recurrence=Recurrence.WEEKLY, count=2
        )
    # Refused before the input is even read: a member is not walked through the series rules.
    with pytest.raises(Forbidden), unit_of_work(session):
        training.create_series(
            session, ctx(make_user()), fields=fields, advised=[], recurrence=Recurrence.WEEKLY, count=500
        )
    assert session.scalars(select(TrainingSession)).all() == []
    with unit_of_work(session):
        made = training.create_series(
            session, ctx(make_user(roles={"admin"})), fields=fields, advised=[], recurrence=Recurrence.WEEKLY, count=2
        )
    assert len(made) == 2 and made[0].trainers == []
