"""A kit that repeats: every date is the whole kit or nothing, clashes say when the whole kit
is next free, and cancelling a date, the following ones or all cancels whole kits."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.db import unit_of_work
from app.models import Booking, BookingSeries, BookingStatus, KitBooking, OutOfService, Recurrence
from app.services import kits, series
from app.services.errors import Forbidden, RuleViolation
from app.services.kits import LineSpec
from app.services.series import OccurrenceStatus
from tests.factories import ctx

PARIS = ZoneInfo("Europe/Paris")


def paris(day: int, hour: int) -> datetime:
    return datetime(2027, 3, day, hour, tzinfo=PARIS).astimezone(UTC)


# Wednesdays 17, 24, 31 March and 7 April 2027, 10 h – 12 h Paris.
FOUR_WEDNESDAYS = {
    "starts_at": paris(17, 10),
    "ends_at": paris(17, 12),
    "recurrence": Recurrence.WEEKLY,
    "interval": 1,
    "count": 4,
}


@pytest.fixture
def member(make_user):
    return make_user(display_name="Léa Membre")


@pytest.fixture
def gear(make_category, make_resource):
    camera, micro, light = (make_category(name=n, needs_approval=True) for n in ("Caméra", "Micro", "Lumière"))
    return {
        "camera": make_resource(name="Caméra Sony", category=camera, departement_code="31"),
        "micro": make_resource(name="Micro Rode", category=micro, departement_code="31"),
        "light": make_resource(name="Lumière LED", category=light, departement_code="31"),
    }


@pytest.fixture
def kit(session, make_user, gear):
    with unit_of_work(session):
        return kits.save(
            session,
            ctx(make_user(roles={"admin"})),
            kit=None,
            name="Kit live",
            description="",
            departement_code=None,
            lines=[LineSpec(category_id=gear[k].category_id) for k in ("camera", "micro", "light")],
        )


@pytest.fixture
def third_wednesday_taken(make_user, make_booking, gear):
    """The only camera is booked by someone else on 31 March."""
    return make_booking(resource=gear["camera"], user=make_user(), starts_at=paris(31, 9), ends_at=paris(31, 13))


def book(session, member, kit, **more) -> series.Booked:
    with unit_of_work(session):
        return series.book_kit(session, ctx(member), kit=kit, purpose="Live du mercredi", **{**FOUR_WEDNESDAYS, **more})


def series_items(session) -> list[Booking]:
    session.expire_all()
    return list(session.scalars(select(Booking).where(Booking.series_id.is_not(None)).order_by(Booking.id)).unique())


def test_each_kit_date_is_free_or_a_clash_with_when_the_whole_kit_is_next_free(
    session, member, kit, third_wednesday_taken
):
    planned = series.plan_kit(session, ctx(member), kit=kit, **FOUR_WEDNESDAYS)
    assert [o.status for o in planned] == [
        OccurrenceStatus.FREE,
        OccurrenceStatus.FREE,
        OccurrenceStatus.CLASH,
        OccurrenceStatus.FREE,
    ]
    clash = planned[2]
    assert clash.next_free is not None and clash.next_free[0] >= paris(31, 13)
    assert "Caméra" in clash.reason
    session.rollback()
    assert session.scalars(select(KitBooking)).all() == []
    assert session.scalars(select(Booking).where(Booking.kit_booking_id.is_not(None))).all() == []


def test_a_kit_date_is_closed_when_every_unit_of_a_line_is_out_of_service(session, member, kit, gear):
    session.add(
        OutOfService(resource_id=gear["light"].id, starts_at=paris(24, 0), ends_at=paris(25, 0), reason="Ampoule")
    )
    session.commit()
    planned = series.plan_kit(session, ctx(member), kit=kit, **FOUR_WEDNESDAYS)
    assert planned[1].status is OccurrenceStatus.CLOSED and "Ampoule" in planned[1].reason
    assert [o.status for o in planned].count(OccurrenceStatus.FREE) == 3


def test_a_kit_series_beyond_the_strictest_advance_limit_is_refused(session, member, kit, gear):
    gear["micro"].category.max_advance_days = 70
    session.commit()
    with pytest.raises(RuleViolation, match="Trop loin"):
        series.plan_kit(session, ctx(member), kit=kit, **FOUR_WEDNESDAYS)


def test_booking_a_kit_series_books_the_whole_kit_on_each_free_date_only(session, member, kit, third_wednesday_taken):
    done = book(session, member, kit)
    assert [o.number for o in done.skipped] == [3] and done.skipped[0].status is OccurrenceStatus.CLASH
    items = series_items(session)
    assert len(items) == 9 and {b.series_id for b in items} == {done.series.id}
    assert len({b.kit_booking_id for b in items}) == 3
    assert all(b.status is BookingStatus.REQUESTED and b.sequence == 0 for b in items)
    assert paris(31, 10) not in {b.starts_at for b in items}
    assert session.get(BookingSeries, done.series.id).resource_id is None


def test_a_date_taken_after_the_preview_is_skipped_whole_with_no_item_left_held(
    session, member, kit, third_wednesday_taken, monkeypatch
):
    stale = series.plan_kit(session, ctx(member), kit=kit, **FOUR_WEDNESDAYS)
    everything_free = series.Plan([series.replace(o, status=OccurrenceStatus.FREE) for o in stale], [])
    monkeypatch.setattr(series, "plan_kit", lambda *args, **kwargs: everything_free)
    done = book(session, member, kit)
    assert [o.number for o in done.skipped] == [3] and done.skipped[0].status is OccurrenceStatus.CLASH
    on_the_third = [b for b in series_items(session) if b.starts_at == paris(31, 10)]
    assert on_the_third == []
    assert len(series_items(session)) == 9


def test_a_kit_series_with_no_free_date_stores_nothing(session, member, kit, gear, make_user, make_booking):
    april = datetime(2027, 4, 9, tzinfo=UTC)
    make_booking(resource=gear["micro"], user=make_user(), starts_at=paris(16, 0), ends_at=april)
    with pytest.raises(RuleViolation, match="Aucune date"):
        book(session, member, kit)
    session.rollback()
    assert session.scalars(select(BookingSeries)).all() == []
    assert series_items(session) == []


def by_date(items: list[Booking]) -> dict[datetime, set[str]]:
    found: dict[datetime, set[str]] = {}
    for b in items:
        found.setdefault(b.starts_at, set()).add(str(b.status))
    return found


def cancel(session, who, booking, scope):
    with unit_of_work(session):
        return series.cancel(session, ctx(who), booking=booking, scope=scope)


def test_cancelling_one_date_of_a_kit_series_cancels_its_whole_kit(session, member, kit):
    book(session, member, kit)
    second = next(b for b in series_items(session) if b.starts_at == paris(24, 10))
    assert len(cancel(session, member, second, "one")) == 3
    statuses = by_date(series_items(session))
    assert statuses[paris(24, 10)] == {"cancelled"}
    assert all(v == {"requested"} for k, v in statuses.items() if k != paris(24, 10))


def test_cancelling_a_date_and_the_following_cancels_their_whole_kits(session, member, kit):
    book(session, member, kit)
    second = next(b for b in series_items(session) if b.starts_at == paris(24, 10))
    assert len(cancel(session, member, second, "following")) == 9
    statuses = by_date(series_items(session))
    assert statuses[paris(17, 10)] == {"requested"}
    assert statuses[paris(24, 10)] == statuses[paris(31, 10)] == {"cancelled"}


def test_cancelling_a_whole_kit_series_cancels_every_kit(session, member, kit):
    book(session, member, kit)
    last = series_items(session)[-1]
    assert len(cancel(session, member, last, "all")) == 12
    assert {s for v in by_date(series_items(session)).values() for s in v} == {"cancelled"}


def test_nobody_else_cancels_a_kit_series(session, member, kit, make_user):
    book(session, member, kit)
    with pytest.raises(Forbidden):
        cancel(session, make_user(), series_items(session)[0], "all")
    assert {s for v in by_date(series_items(session)).values() for s in v} == {"requested"}
