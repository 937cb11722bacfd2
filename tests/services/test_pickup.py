"""Pickup points: items are handed over and brought back within their point's opening hours."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.db import unit_of_work
from app.models import OutOfService
from app.services import blackouts, booking, pickup
from app.services.errors import Conflict, Forbidden, RuleViolation
from tests.factories import NOW, ctx

PARIS = ZoneInfo("Europe/Paris")
# NOW is Monday 11 January 2027, 10:00 in Paris (09:00 UTC).
WEEKDAYS_9_TO_12_AND_14_TO_17 = [(d, "09:00", "12:00") for d in range(5)] + [(d, "14:00", "17:00") for d in range(5)]


def paris(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant of January 2027 given in Paris time (UTC+1 in winter)."""
    return datetime(2027, 1, day, hour, minute, tzinfo=PARIS).astimezone(UTC)


@pytest.fixture
def store(make_pickup_point):
    return make_pickup_point(departement_code="34", name="Maison de la science", hours=WEEKDAYS_9_TO_12_AND_14_TO_17)


@pytest.fixture
def camera(make_category, make_resource, store):
    return make_resource(name="Caméra", departement_code="34", category=make_category(name="Caméra", buffer_hours=0))


@pytest.fixture
def member(make_user):
    return make_user(display_name="Léa Membre")


@pytest.fixture
def host(make_user):
    return make_user(display_name="Inès Hôte", hosts=("34",))


def book(session, who, resource, start, end, **extra):
    return booking.create(session, ctx(who), resource=resource, starts_at=start, ends_at=end, purpose="", **extra)


def test_pickup_and_return_within_opening_hours_are_accepted(session, camera, member):
    assert book(session, member, camera, paris(13, 9), paris(14, 17)).status == "requested"


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (paris(13, 8), paris(14, 10), "starts_at"),  # before opening
        (paris(13, 12, 30), paris(14, 10), "starts_at"),  # lunch break
        (paris(13, 10), paris(16, 10), "ends_at"),  # a Saturday
        (paris(13, 10), paris(14, 19), "ends_at"),  # after closing
    ],
)
def test_pickup_or_return_outside_opening_hours_is_refused_with_the_hours(session, camera, member, start, end, field):
    with pytest.raises(RuleViolation) as refused:
        book(session, member, camera, start, end)
    assert refused.value.field == field
    assert (
        "Maison de la science" in refused.value.message
        and "lundi : 9\u00a0h\u00a000 – 12\u00a0h\u00a000, 14\u00a0h\u00a000 – 17\u00a0h\u00a000"
        in (refused.value.message)
    )


def test_a_closing_day_is_refused_with_its_reason(session, camera, store, member, host):
    with unit_of_work(session):
        pickup.add_closing_day(session, ctx(host), point=store, day=date(2027, 1, 13), reason="Inventaire")
    with pytest.raises(RuleViolation) as refused:
        book(session, member, camera, paris(13, 10), paris(14, 10))
    assert "Inventaire" in refused.value.message


def test_a_host_may_override_the_hours_for_one_booking_but_a_member_may_not(session, camera, member, host):
    with pytest.raises(Forbidden):
        book(session, member, camera, paris(16, 10), paris(17, 10), hours_override=True)
    made = book(session, host, camera, paris(16, 10), paris(17, 10), hours_override=True)
    assert made.hours_override


def test_a_point_without_hours_works_by_appointment(session, make_resource, make_category, member):
    loose = make_resource(departement_code="11", category=make_category())
    assert book(session, member, loose, paris(16, 23), paris(17, 6)).status == "requested"


def test_online_accounts_have_no_hours_and_no_store_closes_them(session, make_category, make_resource, member, host):
    zoom = make_resource(departement_code="34", category=make_category(needs_pickup=False, needs_approval=False))
    assert zoom.pickup_point_id is None
    with unit_of_work(session):
        blackouts.create(
            session, ctx(host), departement_code="34", starts_at=paris(18, 0), ends_at=paris(25, 0), reason="Congés"
        )
    assert book(session, member, zoom, paris(19, 22), paris(19, 23)).status == "approved"


def test_the_next_free_slot_offered_falls_within_opening_hours(session, camera, member, make_user):
    book(session, member, camera, paris(13, 9), paris(13, 16))
    with pytest.raises(Conflict) as refused:
        book(session, make_user(), camera, paris(13, 10), paris(13, 11))
    start, end = refused.value.suggestion
    assert (start, end) == (paris(13, 16), paris(13, 17))  # the end of the day, within the hours
    assert "mercredi 13 janvier 2027, 16\u00a0h\u00a000" in refused.value.message


def test_an_item_out_of_service_is_refused_in_words(session, camera, member):
    session.add(OutOfService(resource_id=camera.id, starts_at=NOW, reason="Objectif rayé"))
    session.commit()
    with pytest.raises(Conflict) as refused:
        book(session, member, camera, paris(13, 10), paris(14, 10))
    assert "hors service : Objectif rayé" in refused.value.message


class TestFinishedIsFinal:
    @pytest.fixture
    def past(self, session, camera, member, make_booking):
        return make_booking(
            resource=camera, user=member, starts_at=NOW - timedelta(days=3), ends_at=NOW - timedelta(days=1)
        )

    def test_a_booking_past_its_end_cannot_be_cancelled_moved_or_extended(self, session, past, member):
        later = ctx(member)
        for attempt in (
            lambda: booking.cancel(session, later, booking=past),
            lambda: booking.change_dates(session, later, booking=past, starts_at=paris(13, 10), ends_at=paris(14, 10)),
            lambda: booking.extend(session, later, booking=past, ends_at=paris(14, 10)),
        ):
            with pytest.raises(Conflict) as refused:
                attempt()
            assert "terminée" in refused.value.message
        assert (past.status, past.ends_at) == ("approved", NOW - timedelta(days=1))


class TestEditingPoints:
    def test_only_the_departements_hosts_and_admins_edit_a_point(self, session, store, host, make_user):
        fields = {"name": "Maison", "address": "1 rue", "access_notes": "", "phone": "", "email": ""}
        for outsider in (make_user(), make_user(hosts=("11",))):
            with pytest.raises(Forbidden):
                pickup.save(session, ctx(outsider), point=store, **fields)
            with pytest.raises(Forbidden):
                pickup.set_hours(session, ctx(outsider), point=store, spans=[])
        pickup.save(session, ctx(host), point=store, **fields)
        pickup.save(session, ctx(make_user(roles={"admin"})), point=store, **fields)
        assert store.address == "1 rue"

    def test_hours_of_one_day_may_not_overlap(self, session, store, host):
        spans = [pickup.Span(0, time(9), time(12)), pickup.Span(0, time(11), time(13))]
        with pytest.raises(RuleViolation):
            pickup.set_hours(session, ctx(host), point=store, spans=spans)

    def test_a_closing_day_over_a_pickup_or_a_return_is_refused_naming_who(
        self, session, store, host, camera, member, make_booking
    ):
        make_booking(resource=camera, user=member, starts_at=paris(12, 10), ends_at=paris(13, 16))
        for day in (date(2027, 1, 12), date(2027, 1, 13)):
            with pytest.raises(Conflict) as refused:
                pickup.add_closing_day(session, ctx(host), point=store, day=day, reason="Inventaire")
            assert "Léa Membre, Caméra" in refused.value.message
        pickup.add_closing_day(session, ctx(host), point=store, day=date(2027, 1, 14), reason="Inventaire")
        assert [c.day for c in store.closing_days] == [date(2027, 1, 14)]

    def test_a_closing_day_in_the_past_is_refused(self, session, store, host):
        with pytest.raises(RuleViolation):
            pickup.add_closing_day(session, ctx(host), point=store, day=date(2027, 1, 1), reason="")
