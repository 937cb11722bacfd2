"""The tick writes each reminder once, at the right moment, to the right people."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import select

from app.db import unit_of_work
from app.jobs import write_reminders
from app.models import OutboxMessage
from app.services import reminders
from tests.factories import NOW

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def tick(session, ctx):
    """`tick(now)`: the scheduler's minute, at `now`; how many emails it wrote."""
    return lambda now: write_reminders(session, ctx(now=now))


def keys(session) -> list[str]:
    return sorted(session.scalars(select(OutboxMessage.key)))


@pytest.fixture
def camera(make_category, make_resource):
    return make_resource(name="Caméra Sony", category=make_category(), departement_code="11")


@pytest.fixture
def people(make_user):
    return {
        "member": make_user(display_name="Léa Fabre"),
        "host": make_user(display_name="Martin Aubert", hosts=("11",)),
    }


def test_pickup_tomorrow_is_written_once_with_the_event_attached(session, tick, camera, people, make_booking):
    made = make_booking(
        resource=camera, user=people["member"], starts_at=NOW + timedelta(hours=20), ends_at=NOW + timedelta(days=2)
    )
    assert tick(NOW - timedelta(hours=5)) == 0  # 25 hours ahead: not yet
    assert tick(NOW) == 1
    assert tick(NOW + timedelta(minutes=1)) == 0  # a second tick adds nothing
    [mail] = session.scalars(select(OutboxMessage)).all()
    assert mail.key.startswith(f"booking:{made.id}:pickup-reminder:")
    assert mail.to_address == people["member"].email and "Demain : retrait de Caméra Sony" in mail.subject
    cal = icalendar.Calendar.from_ical(mail.ics)
    assert {str(e["UID"]) for e in cal.walk("VEVENT")} >= {f"booking-{made.id}@localhost"}


def test_a_booking_moved_to_another_day_is_reminded_again(session, tick, camera, people, make_booking):
    made = make_booking(
        resource=camera, user=people["member"], starts_at=NOW + timedelta(hours=20), ends_at=NOW + timedelta(days=2)
    )
    tick(NOW)
    made.starts_at = NOW + timedelta(days=3)
    made.ends_at = NOW + timedelta(days=4)
    made.held_until = made.ends_at
    session.commit()
    assert tick(NOW + timedelta(days=2, hours=2)) == 1
    assert len(keys(session)) == 2


def test_return_tomorrow_then_overdue_on_day_one_and_every_three_days_with_host_copies(
    session, tick, camera, people, make_booking
):
    ends = NOW + timedelta(hours=10)
    make_booking(
        resource=camera, user=people["member"], status="picked_up", starts_at=NOW - timedelta(days=2), ends_at=ends
    )
    assert tick(NOW) == 2  # return within a day, and it is in today's host digest
    assert tick(ends + timedelta(hours=12)) == 0  # late, but less than a day
    written = [tick(ends + timedelta(days=d, minutes=5)) for d in range(1, 9)]
    # Day 1, 4 and 7: borrower and host each time.
    assert written == [2, 0, 0, 2, 0, 0, 2, 0]
    recipients = [
        m.to_address for m in session.scalars(select(OutboxMessage).where(OutboxMessage.key.like("%overdue%")))
    ]
    assert recipients.count(people["member"].email) == 3 and recipients.count(people["host"].email) == 3


def test_overdue_reminders_cannot_be_turned_off_but_others_can(session, tick, camera, people, make_booking):
    member = people["member"]
    member.reminder_opt_outs = "pickup return account training digest"
    session.commit()
    make_booking(resource=camera, user=member, starts_at=NOW + timedelta(hours=20), ends_at=NOW + timedelta(days=2))
    assert tick(NOW) == 0
    make_booking(
        resource=camera,
        user=member,
        status="picked_up",
        starts_at=NOW - timedelta(days=9),
        ends_at=NOW - timedelta(days=3),
    )
    tick(NOW)
    assert [m.to_address for m in session.scalars(select(OutboxMessage))].count(member.email) == 1


def test_an_account_booking_is_reminded_an_hour_before_without_its_password(
    session, tick, make_category, make_resource, people, make_booking
):
    zoom = make_resource(
        name="Compte Zoom n°1", category=make_category(needs_pickup=False), credentials_encrypted="gAAAA-secret"
    )
    make_booking(
        resource=zoom, user=people["member"], starts_at=NOW + timedelta(minutes=50), ends_at=NOW + timedelta(hours=3)
    )
    assert tick(NOW) == 1
    [mail] = session.scalars(select(OutboxMessage)).all()
    assert "Afficher les identifiants" in mail.body_text and "gAAAA" not in mail.body_text


def test_trainings_are_reminded_the_day_before_and_an_hour_before_with_the_link(
    session, ctx, tick, make_training, make_user
):
    from app.services import training

    course = make_training(starts_at=NOW + timedelta(hours=23), registration_deadline=NOW)
    person = make_user(locale="en", display_name="Ann Smith")
    with unit_of_work(session):
        training.sign_up(session, ctx(person, now=NOW - timedelta(days=2)), training=course)
    assert tick(NOW) == 1
    assert tick(NOW + timedelta(hours=22, minutes=30)) == 1
    mails = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    # In the person's own language.
    assert mails[0].subject.startswith("[La Malle] Tomorrow") and mails[1].subject.startswith("[La Malle] In one hour")
    assert "https://visio.example.org/obs" in mails[1].body_text


def test_hosts_get_one_digest_at_half_past_seven_paris_time(session, tick, camera, people, make_booking, make_user):
    morning = datetime(2027, 1, 12, 7, 0, tzinfo=PARIS).astimezone(UTC)
    make_booking(
        resource=camera,
        user=people["member"],
        starts_at=morning + timedelta(hours=3),
        ends_at=morning + timedelta(days=1),
    )
    make_user(hosts=("34",))  # nothing in the Hérault today: no email
    assert tick(morning) == 1  # only the pickup reminder to the member, before 07:30
    assert tick(morning + timedelta(minutes=31)) == 1
    assert tick(morning + timedelta(hours=3)) == 0
    digest = session.scalar(select(OutboxMessage).where(OutboxMessage.key.like("host:%")))
    assert digest.to_address == people["host"].email and "Léa Fabre" in digest.body_text


def _morning_pickup(camera, people, make_booking):
    morning = datetime(2027, 1, 12, 7, 0, tzinfo=PARIS).astimezone(UTC)
    make_booking(
        resource=camera,
        user=people["member"],
        starts_at=morning + timedelta(hours=3),
        ends_at=morning + timedelta(days=1),
    )
    return morning


def test_a_late_tick_still_sends_the_digest_in_the_morning_but_not_in_the_afternoon(
    session, tick, camera, people, make_booking
):
    morning = _morning_pickup(camera, people, make_booking)
    tick(morning)  # the pickup reminder, written the evening before in real life
    assert tick(morning + timedelta(hours=6)) == 0  # 13:00: the scheduler was down all morning
    assert tick(morning + timedelta(hours=4, minutes=59)) == 1  # 11:59: still the digest's morning
    assert session.scalar(select(OutboxMessage.key).where(OutboxMessage.key.like("host:%")))


def test_hosts_are_looked_up_only_in_the_digest_window_and_never_every_person(
    session, ctx, camera, people, make_booking, make_user
):
    from app.models import User

    morning = _morning_pickup(camera, people, make_booking)
    for _ in range(5):
        make_user()  # members: never loaded for a digest
    make_user(hosts=("34",))  # a host with nothing today: not loaded either

    def people_loaded_at(now) -> set[int]:
        session.expunge_all()
        found = reminders.due(session, ctx(now=now))  # held: the identity map keeps only what is referenced
        loaded = {obj.id for obj in session.identity_map.values() if isinstance(obj, User)}
        del found
        session.rollback()
        return loaded

    member, host = people["member"].id, people["host"].id
    assert people_loaded_at(morning) == {member}  # 07:00: the pickup's holder only
    assert people_loaded_at(morning + timedelta(minutes=31)) == {member, host}
    assert people_loaded_at(morning + timedelta(hours=6)) == set()  # 13:00: no reminder, no digest


def test_emails_are_rendered_before_the_write_transaction_begins(session, ctx, camera, people, make_booking):
    from app.db import _IN_UNIT

    make_booking(
        resource=camera, user=people["member"], starts_at=NOW + timedelta(hours=20), ends_at=NOW + timedelta(days=2)
    )
    base = ctx(now=NOW)
    rendered_inside_a_unit: list[bool] = []

    def render(template, **kwargs):
        rendered_inside_a_unit.append(bool(session().info.get(_IN_UNIT)))
        return base.render_email(template, **kwargs)

    assert write_reminders(session, ctx(now=NOW, render_email=render)) == 1
    assert rendered_inside_a_unit == [False]


def test_a_reminder_already_written_is_not_rendered_again(session, ctx, camera, people, make_booking):
    make_booking(
        resource=camera, user=people["member"], starts_at=NOW + timedelta(hours=20), ends_at=NOW + timedelta(days=2)
    )
    write_reminders(session, ctx(now=NOW))

    def render(template, **kwargs):
        raise AssertionError("rendered again")

    assert write_reminders(session, ctx(now=NOW + timedelta(minutes=1), render_email=render)) == 0


def test_two_ticks_rendering_the_same_reminder_write_it_once(session, ctx, camera, people, make_booking):
    make_booking(
        resource=camera, user=people["member"], starts_at=NOW + timedelta(hours=20), ends_at=NOW + timedelta(days=2)
    )
    now = ctx(now=NOW)
    first = reminders.drafts(session, now, due=reminders.due(session, now))
    second = reminders.drafts(session, now, due=reminders.due(session, now))  # rendered before the first writes
    session.rollback()
    with unit_of_work(session):
        assert reminders.write(session, now, drafts=first) == 1
    with unit_of_work(session):
        assert reminders.write(session, now, drafts=second) == 0
    assert len(session.scalars(select(OutboxMessage)).all()) == 1
