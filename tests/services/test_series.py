"""Booking series: the dates on the wall clock, each occurrence's status, booking the free ones, cancelling."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.db import unit_of_work
from app.models import AuditEntry, Booking, BookingSeries, BookingStatus, OutOfService, Recurrence
from app.services import blackouts, booking, series
from app.services.errors import Conflict, Forbidden, RuleViolation
from tests.factories import NOW, ctx

PARIS = ZoneInfo("Europe/Paris")
W = Recurrence.WEEKLY
H = timedelta(hours=1)


def paris(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS).astimezone(UTC)


@pytest.fixture
def member(make_user):
    return make_user(display_name="Léa Membre")


@pytest.fixture
def host(make_user):
    return make_user(display_name="Martin Hôte", hosts=("31",))


@pytest.fixture
def camera(make_category, make_resource):
    category = make_category(name="Caméra", needs_approval=False, max_advance_days=365)
    return make_resource(name="Caméra Sony", category=category, departement_code="31")


def wednesdays(camera, count=4, **more):
    """Wednesday 17 March 2027, 10 h – 12 h Paris, weekly."""
    return {
        "resource": camera,
        "starts_at": paris(2027, 3, 17),
        "ends_at": paris(2027, 3, 17, 12),
        "recurrence": W,
        "count": count,
        **more,
    }


def local_days(occurrences) -> list[date]:
    return [o.starts_at.astimezone(PARIS).date() for o in occurrences]


# The dates ----------------------------------------------------------------------------------


def test_weekly_across_the_end_of_march_clock_change_keeps_ten_oclock_in_paris(session, camera, member):
    planned = series.plan(session, ctx(member), **wednesdays(camera))
    assert local_days(planned) == [date(2027, 3, 17), date(2027, 3, 24), date(2027, 3, 31), date(2027, 4, 7)]
    assert {o.starts_at.astimezone(PARIS).hour for o in planned} == {10}
    assert {o.ends_at.astimezone(PARIS).hour for o in planned} == {12}
    # The instants move by an hour in UTC when Paris changes clocks on 28 March.
    assert [o.starts_at.hour for o in planned] == [9, 9, 8, 8]
    assert all(o.is_free for o in planned)


def test_every_second_week_until_a_date_includes_that_date(session, camera, member):
    planned = series.plan(session, ctx(member), **wednesdays(camera, count=None, interval=2, until=date(2027, 4, 14)))
    assert local_days(planned) == [date(2027, 3, 17), date(2027, 3, 31), date(2027, 4, 14)]


def test_monthly_on_the_31st_skips_the_months_without_one_and_says_so(session, camera, member):
    start = {"starts_at": paris(2027, 1, 31), "ends_at": paris(2027, 1, 31, 12), "recurrence": Recurrence.MONTHLY_DATE}
    planned = series.plan(session, ctx(member), resource=camera, count=4, **start)
    assert local_days(planned) == [date(2027, 1, 31), date(2027, 3, 31), date(2027, 5, 31), date(2027, 7, 31)]
    assert len(planned.skipped) == 3
    assert "Pas de 31 en février 2027" in planned.skipped[0]
    assert "avril 2027" in planned.skipped[1] and "juin 2027" in planned.skipped[2]
    # Until a date: a missing 31st after the end is not a skipped month.
    until = series.plan(session, ctx(member), resource=camera, until=date(2027, 6, 15), **start)
    assert local_days(until) == [date(2027, 1, 31), date(2027, 3, 31), date(2027, 5, 31)]
    assert len(until.skipped) == 2


def test_monthly_on_the_second_wednesday_keeps_the_rank(session, camera, member):
    planned = series.plan(
        session,
        ctx(member),
        resource=camera,
        starts_at=paris(2027, 1, 13),  # the 2nd Wednesday of January
        ends_at=paris(2027, 1, 13, 12),
        recurrence=Recurrence.MONTHLY_WEEKDAY,
        count=4,
    )
    assert local_days(planned) == [date(2027, 1, 13), date(2027, 2, 10), date(2027, 3, 10), date(2027, 4, 14)]
    assert series.describe(Recurrence.MONTHLY_WEEKDAY, 1, planned[0].starts_at, PARIS) == "Chaque mois, le 2e mercredi"


def test_a_fifth_wednesday_repeats_as_the_last_wednesday(session, camera, member):
    planned = series.plan(
        session,
        ctx(member),
        resource=camera,
        starts_at=paris(2027, 3, 31),  # the 5th Wednesday of March
        ends_at=paris(2027, 3, 31, 12),
        recurrence=Recurrence.MONTHLY_WEEKDAY,
        count=4,
    )
    assert local_days(planned) == [date(2027, 3, 31), date(2027, 4, 28), date(2027, 5, 26), date(2027, 6, 30)]
    assert "dernier mercredi" in series.describe(Recurrence.MONTHLY_WEEKDAY, 1, planned[0].starts_at, PARIS)


# Bad input ----------------------------------------------------------------------------------


def test_a_series_of_500_occurrences_is_refused_and_nothing_is_stored(session, camera, member):
    with pytest.raises(RuleViolation) as refused, unit_of_work(session):
        series.book(session, ctx(member), purpose="", **wednesdays(camera, count=500))
    assert "52" in refused.value.message and refused.value.field == "count"
    assert session.scalars(select(BookingSeries)).all() == []
    assert session.scalars(select(Booking)).all() == []


def test_a_date_far_enough_for_more_than_52_occurrences_is_refused(session, make_category, make_resource, member):
    far = make_resource(category=make_category(needs_approval=False, max_advance_days=3000))
    with pytest.raises(RuleViolation) as refused:
        series.plan(session, ctx(member), **wednesdays(far, count=None, until=date(2029, 1, 1)))
    assert "52" in refused.value.message and refused.value.field == "until"


@pytest.mark.parametrize(
    ("changes", "field", "said"),
    [
        ({"ends_at": paris(2027, 3, 17, 9)}, "ends_at", "La fin doit venir après le début."),
        ({"count": None, "until": date(2027, 3, 16)}, "until", "La série doit finir après sa première date."),
        ({"count": 0}, "count", "Il faut au moins une date."),
        ({"count": -3}, "count", "Il faut au moins une date."),
        ({"count": None}, "count", "Dites jusqu'à quelle date, ou combien de fois."),
        ({"interval": 0}, "interval", "L'intervalle va de 1 à 12"),
        ({"interval": 13}, "interval", "L'intervalle va de 1 à 12"),
        ({"ends_at": paris(2027, 3, 25)}, "ends_at", "Chaque date doit finir avant la suivante."),
        ({"starts_at": NOW - H, "ends_at": NOW + H}, "starts_at", "Ce début est déjà passé."),
    ],
)
def test_impossible_series_are_refused_with_the_field_to_fix(
    session, make_category, make_resource, member, changes, field, said
):
    roomy = make_resource(category=make_category(needs_approval=False, max_duration_hours=24 * 10))
    with pytest.raises(RuleViolation) as refused:
        series.plan(session, ctx(member), **{**wednesdays(roomy), **changes})
    assert refused.value.field == field
    assert said in refused.value.message


@pytest.mark.parametrize(
    ("rules", "changes", "said"),
    [
        ({"min_lead_hours": 24 * 70}, {}, "Trop tard : réservez au moins 70 jours"),
        ({"max_duration_hours": 1}, {}, "Trop long : 1 heure au plus"),
        # Tuesday 23 h, plus 12 h of turnaround, runs into the next Wednesday 10 h.
        ({"buffer_hours": 12}, {"ends_at": paris(2027, 3, 23, 23)}, "battement de préparation compris"),
    ],
)
def test_the_categorys_rules_hold_for_every_date(session, make_category, make_resource, member, rules, changes, said):
    strict = make_resource(category=make_category(needs_approval=False, **rules))
    with pytest.raises(RuleViolation) as refused:
        series.plan(session, ctx(member), **{**wednesdays(strict), **changes})
    assert said in refused.value.message


def test_a_retired_resource_takes_no_series(session, camera, member):
    camera.retired_at = NOW - H
    session.commit()
    with pytest.raises(RuleViolation):
        series.plan(session, ctx(member), **wednesdays(camera))


def test_a_time_that_the_spring_clock_change_skips_closes_that_date(session, camera, member):
    sunday = paris(2027, 3, 21, 2, 30)  # 2 h 30 does not exist on Sunday 28 March
    planned = series.plan(
        session, ctx(member), resource=camera, starts_at=sunday, ends_at=paris(2027, 3, 21, 5), recurrence=W, count=3
    )
    assert [o.status for o in planned] == ["free", "closed", "free"]
    assert "changement d'heure" in planned[1].reason


def test_a_series_beyond_the_categorys_advance_limit_is_refused(session, make_category, make_resource, member):
    near = make_resource(category=make_category(needs_approval=False, max_advance_days=60))
    first = NOW + timedelta(days=2)
    rule = {"resource": near, "starts_at": first, "ends_at": first + 2 * H, "recurrence": W}
    with pytest.raises(RuleViolation) as refused, unit_of_work(session):
        series.book(session, ctx(member), purpose="", count=12, **rule)
    assert "60 jours" in refused.value.message and "9 dates de la série tiennent" in refused.value.message
    assert session.scalars(select(Booking)).all() == []
    assert len(series.plan(session, ctx(member), count=9, **rule)) == 9


# Statuses -----------------------------------------------------------------------------------


def test_a_clash_is_reported_with_its_next_free_slot(session, camera, member, make_user, make_booking):
    make_booking(resource=camera, user=make_user(), starts_at=paris(2027, 3, 31, 9), ends_at=paris(2027, 3, 31, 15))
    planned = series.plan(session, ctx(member), **wednesdays(camera))
    assert [o.status for o in planned] == ["free", "free", "clash", "free"]
    clash = planned[2]
    assert "Déjà réservé" in clash.reason and "Prochain créneau libre" in clash.reason
    assert clash.next_free == (paris(2027, 3, 31, 15), paris(2027, 3, 31, 17))
    assert [o.number for o in planned.free] == [1, 2, 4]


def test_closures_out_of_service_and_opening_hours_close_an_occurrence_and_say_why(
    session, make_category, make_resource, make_pickup_point, member, host
):
    # Open Monday to Friday, 9 h – 18 h.
    make_pickup_point(departement_code="31", hours=[(d, "09:00", "18:00") for d in range(5)])
    camera = make_resource(category=make_category(needs_approval=False), departement_code="31")
    with unit_of_work(session):
        blackouts.create(
            session,
            ctx(host),
            departement_code="31",
            starts_at=paris(2027, 4, 10, 0),
            ends_at=paris(2027, 4, 13, 0),
            reason="Inventaire",
        )
        session.add(
            OutOfService(
                resource_id=camera.id,
                starts_at=paris(2027, 6, 1, 0),
                ends_at=paris(2027, 6, 20, 0),
                reason="Objectif fêlé",
                created_by_id=host.id,
            )
        )
    planned = series.plan(
        session,
        ctx(member),
        resource=camera,
        starts_at=paris(2027, 2, 12),  # the 12th, February to June
        ends_at=paris(2027, 2, 12, 12),
        recurrence=Recurrence.MONTHLY_DATE,
        count=5,
    )
    by_day = {o.starts_at.astimezone(PARIS).date(): o for o in planned}
    assert by_day[date(2027, 2, 12)].is_free
    assert by_day[date(2027, 3, 12)].is_free
    assert by_day[date(2027, 4, 12)].status == "closed" and "Inventaire" in by_day[date(2027, 4, 12)].reason
    assert by_day[date(2027, 6, 12)].status == "closed" and "hors service" in by_day[date(2027, 6, 12)].reason
    assert by_day[date(2027, 5, 12)].is_free  # a Wednesday
    later = series.plan(
        session,
        ctx(member),
        resource=camera,
        starts_at=paris(2027, 3, 6),  # Saturday 6 March: outside the hours
        ends_at=paris(2027, 3, 6, 12),
        recurrence=W,
        count=1,
    )
    assert later[0].status == "closed" and "heures d'ouverture" in later[0].reason


# Booking ------------------------------------------------------------------------------------


def test_booking_books_only_the_free_ones_linked_to_their_series(session, camera, member, make_user, make_booking):
    make_booking(resource=camera, user=make_user(), starts_at=paris(2027, 3, 31, 9), ends_at=paris(2027, 3, 31, 15))
    with unit_of_work(session):
        done = series.book(session, ctx(member), purpose="Live du mercredi", **wednesdays(camera))
    assert [b.starts_at.astimezone(PARIS).date() for b in done.bookings] == [
        date(2027, 3, 17),
        date(2027, 3, 24),
        date(2027, 4, 7),
    ]
    assert [o.number for o in done.skipped] == [3]
    assert done.skipped[0].next_free is not None
    session.expire_all()
    stored = session.scalars(select(Booking).where(Booking.series_id == done.series.id)).all()
    assert len(stored) == 3 and {b.status for b in stored} == {BookingStatus.APPROVED}
    assert {b.purpose for b in stored} == {"Live du mercredi"}
    kept = session.get(BookingSeries, done.series.id)
    assert (kept.user_id, kept.resource_id, kept.recurrence, kept.occurrences) == (member.id, camera.id, W, 4)
    assert session.scalar(select(AuditEntry).where(AuditEntry.subject_type == "booking_series")).note == "3/4"


def test_a_second_series_in_the_same_unit_of_work_failing_leaves_none(session, camera, member):
    with pytest.raises(RuleViolation), unit_of_work(session):
        series.book(session, ctx(member), purpose="", **wednesdays(camera))
        series.book(session, ctx(member), purpose="", **wednesdays(camera))  # every date now taken
    session.expire_all()
    assert session.scalars(select(Booking)).all() == []
    assert session.scalars(select(BookingSeries)).all() == []


def test_an_occurrence_taken_after_the_preview_is_skipped_and_reported(
    session, camera, member, make_user, make_booking, monkeypatch
):
    make_booking(resource=camera, user=make_user(), starts_at=paris(2027, 3, 24, 9), ends_at=paris(2027, 3, 24, 15))

    def stale(session, ctx, resource, number, slot, busy):  # the preview read before that booking
        return series.Occurrence(number, slot.starts_at, slot.ends_at, series.OccurrenceStatus.FREE)

    monkeypatch.setattr(series, "_status", stale)
    with unit_of_work(session):
        done = series.book(session, ctx(member), purpose="", **wednesdays(camera))
    assert len(done.bookings) == 3
    assert [(o.number, o.status) for o in done.skipped] == [(2, "clash")]
    assert "Déjà réservé" in done.skipped[0].reason
    # Every date taken since the preview: nothing at all is booked.
    with pytest.raises(RuleViolation) as refused, unit_of_work(session):
        series.book(session, ctx(member), purpose="", **wednesdays(camera))
    assert "rien n'a été réservé" in refused.value.message
    assert session.scalars(select(BookingSeries)).all() == [done.series]


def test_dates_beyond_the_per_member_limit_are_skipped_with_the_rule(session, make_category, make_resource, member):
    limited = make_resource(category=make_category(needs_approval=False, per_member_limit=2))
    with unit_of_work(session):
        done = series.book(session, ctx(member), purpose="", **wednesdays(limited))
    assert len(done.bookings) == 2
    assert [o.status for o in done.skipped] == ["refused", "refused"]
    assert "maximum" in done.skipped[0].reason


def test_a_series_with_no_free_date_books_nothing(session, camera, member, host):
    with unit_of_work(session):
        blackouts.create(
            session,
            ctx(host),
            departement_code="31",
            starts_at=paris(2027, 3, 1, 0),
            ends_at=paris(2027, 5, 1, 0),
            reason="Travaux",
        )
    with pytest.raises(RuleViolation) as refused, unit_of_work(session):
        series.book(session, ctx(member), purpose="", **wednesdays(camera))
    assert "rien n'a été réservé" in refused.value.message
    assert session.scalars(select(BookingSeries)).all() == []


def test_an_unapproved_member_cannot_book_a_series(session, camera, make_user):
    with pytest.raises(Forbidden), unit_of_work(session):
        series.book(session, ctx(make_user(approved=False)), purpose="", **wednesdays(camera))
    assert session.scalars(select(BookingSeries)).all() == []


# Cancelling ---------------------------------------------------------------------------------


@pytest.fixture
def booked(session, camera, member):
    with unit_of_work(session):
        done = series.book(session, ctx(member), purpose="", **wednesdays(camera))
    return done.bookings


def statuses(session, bookings) -> list[str]:
    session.expire_all()
    return [str(session.get(Booking, b.id).status) for b in bookings]


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("one", ["approved", "cancelled", "approved", "approved"]),
        ("following", ["approved", "cancelled", "cancelled", "cancelled"]),
        ("all", ["cancelled", "cancelled", "cancelled", "cancelled"]),
    ],
)
def test_cancel_one_this_and_the_following_or_all(session, booked, member, scope, expected):
    with unit_of_work(session):
        cancelled = series.cancel(session, ctx(member), booking=booked[1], scope=scope)
    assert len(cancelled) == expected.count("cancelled")
    assert statuses(session, booked) == expected


def test_cancelling_the_whole_series_leaves_finished_occurrences_untouched(session, booked, member):
    after_the_first = ctx(member, now=paris(2027, 3, 20))
    with unit_of_work(session):
        cancelled = series.cancel(session, after_the_first, booking=booked[3], scope="all")
    assert [b.id for b in cancelled] == [b.id for b in booked[1:]]
    assert statuses(session, booked) == ["approved", "cancelled", "cancelled", "cancelled"]
    with pytest.raises(Conflict), unit_of_work(session):
        series.cancel(session, after_the_first, booking=booked[0], scope="all")


def test_another_member_cannot_cancel_any_part_of_a_series(session, booked, make_user, host):
    stranger = make_user()
    for scope in ("one", "following", "all"):
        with pytest.raises(Forbidden), unit_of_work(session):
            series.cancel(session, ctx(stranger), booking=booked[0], scope=scope)
    assert statuses(session, booked) == ["approved"] * 4
    with unit_of_work(session):
        assert len(series.cancel(session, ctx(host), booking=booked[0], scope="all")) == 4


def test_another_member_learns_nothing_from_a_finished_series(session, booked, make_user):
    # Nothing left to cancel: the stranger is still refused, not told "nothing to cancel".
    with pytest.raises(Forbidden), unit_of_work(session):
        series.cancel(session, ctx(make_user(), now=paris(2027, 5, 1)), booking=booked[0], scope="all")


def test_an_unknown_scope_or_a_booking_outside_any_series_is_refused(session, camera, member, booked):
    with pytest.raises(RuleViolation):
        series.cancel(session, ctx(member), booking=booked[0], scope="everything")
    with unit_of_work(session):
        start, end = paris(2027, 2, 1), paris(2027, 2, 1, 11)
        alone = booking.create(session, ctx(member), resource=camera, starts_at=start, ends_at=end, purpose="")
    with pytest.raises(RuleViolation):
        series.cancel(session, ctx(member), booking=alone, scope="following")


def test_the_series_page_is_for_its_holder_its_hosts_and_admins(session, booked, member, host, make_user):
    series_id = booked[0].series_id
    assert series.visible(session, ctx(member), series_id).id == series_id
    assert series.visible(session, ctx(host), series_id).id == series_id
    assert series.visible(session, ctx(make_user(roles={"admin"})), series_id).id == series_id
    with pytest.raises(Forbidden):
        series.visible(session, ctx(make_user()), series_id)
    with pytest.raises(Forbidden):
        series.visible(session, ctx(make_user(hosts=("11",))), series_id)


def test_occurrences_are_plain_values(session, camera, member):
    first = series.plan(session, ctx(member), **wednesdays(camera))[0]
    assert replace(first, status=series.OccurrenceStatus.CLASH).is_free is False
    assert series.OccurrenceStatus.CLASH.label == "Déjà pris"
