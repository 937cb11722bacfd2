"""Availability read by window: "free between" returns exactly the free resources, and busy
periods are exactly what meets the window, on SQLite and on PostgreSQL alike (the suite runs
on both), each in one statement whatever the history before the window."""

import random
from datetime import timedelta

import pytest
from sqlalchemy import event

from app.extensions import db
from app.models import HOLDING_STATUSES, Blackout, Booking, BookingStatus, Kit, KitLine, OutOfService
from app.services import availability, catalogue, kits
from tests.factories import NOW

H = timedelta(hours=1)
D = timedelta(days=1)
# The window asked about: Wednesday 09:00 to 17:00 UTC, a week after NOW.
START = NOW + 7 * D
END = START + 8 * H


@pytest.fixture
def statements(app):
    """The SQL statements run inside the `with` block, as a list (SQLite's BEGIN left out)."""

    class Recorder:
        def __init__(self):
            self.seen: list[str] = []

        def _note(self, _conn, _cursor, statement, *_args):
            if not statement.startswith("BEGIN"):
                self.seen.append(statement)

        def __enter__(self):
            event.listen(db.engine, "before_cursor_execute", self._note)
            return self.seen

        def __exit__(self, *_exc):
            event.remove(db.engine, "before_cursor_execute", self._note)

    return Recorder


def free_names(session, start=START, end=END, **criteria) -> set[str]:
    return {r.name for r in catalogue.free_between(session, start, end, **criteria)}


def test_a_booking_straddling_either_edge_of_the_window_or_covering_it_makes_the_resource_busy(
    session, make_category, make_resource, make_user, make_booking
):
    category = make_category()
    member = make_user()
    cases = {
        "from before": (START - 2 * D, START + H),
        "until after": (END - H, END + 2 * D),
        "all through": (START - 3 * D, END + 3 * D),
        "inside": (START + H, START + 2 * H),
        "ends at the start": (START - D, START),
        "starts at the end": (END, END + D),
    }
    for name, (starts_at, ends_at) in cases.items():
        make_booking(
            resource=make_resource(name=name, category=category), user=member, starts_at=starts_at, ends_at=ends_at
        )
    make_resource(name="never booked", category=category)

    assert free_names(session) == {"ends at the start", "starts at the end", "never booked"}


def test_the_category_buffer_counts_after_an_earlier_booking_and_after_the_asked_period(
    session, make_category, make_resource, make_user, make_booking
):
    stands = make_category(buffer_hours=24)
    member = make_user()
    still_in_buffer = make_resource(name="buffer until after the start", category=stands)
    make_booking(resource=still_in_buffer, user=member, starts_at=START - 3 * D, ends_at=START - 12 * H)
    buffer_done = make_resource(name="buffer over before", category=stands)
    make_booking(resource=buffer_done, user=member, starts_at=START - 3 * D, ends_at=START - 24 * H)
    next_too_close = make_resource(name="next booking inside the new buffer", category=stands)
    make_booking(resource=next_too_close, user=member, starts_at=END + 23 * H, ends_at=END + 2 * D)
    next_far_enough = make_resource(name="next booking after the new buffer", category=stands)
    make_booking(resource=next_far_enough, user=member, starts_at=END + 24 * H, ends_at=END + 2 * D)
    no_buffer = make_category(buffer_hours=0)
    make_booking(
        resource=make_resource(name="no buffer, next right after", category=no_buffer),
        user=member,
        starts_at=END,
        ends_at=END + D,
    )

    assert free_names(session) == {
        "buffer over before",
        "next booking after the new buffer",
        "no buffer, next right after",
    }


def test_only_holding_bookings_block_whatever_their_other_states(
    session, make_category, make_resource, make_user, make_booking
):
    category = make_category()
    member = make_user()
    for status in BookingStatus:
        make_booking(
            resource=make_resource(name=status.value, category=category),
            user=member,
            status=status.value,
            starts_at=START - H,
            ends_at=END + H,
        )
    assert free_names(session) == {s.value for s in BookingStatus if s not in HOLDING_STATUSES}


def test_a_cancelled_booking_after_a_long_holding_one_does_not_hide_it(
    session, make_category, make_resource, make_user, make_booking
):
    """The holding booking that runs through the window began long before it, and later
    bookings that no longer hold (cancelled, refused) began after it: still busy."""
    category = make_category()
    member = make_user()
    camera = make_resource(name="Caméra", category=category)
    make_booking(resource=camera, user=member, starts_at=START - 6 * D, ends_at=END + D)
    for days in (5, 3, 1):
        make_booking(
            resource=camera, user=member, status="cancelled", starts_at=START - days * D, ends_at=START - days * D + H
        )
    make_booking(resource=camera, user=member, status="rejected", starts_at=START + H, ends_at=START + 2 * H)
    assert free_names(session) == set()
    assert [p.booking_id is not None for p in availability.busy_periods(session, camera, START, END)] == [True]


def test_a_store_closure_closes_what_is_kept_there_but_not_online_accounts(session, make_category, make_resource):
    cameras = make_category(needs_pickup=True)
    accounts = make_category(needs_pickup=False)
    make_resource(name="caméra fermée", category=cameras, departement_code="31")
    make_resource(name="compte du 31", category=accounts, departement_code="31", pickup_point_id=None)
    make_resource(name="caméra ailleurs", category=cameras, departement_code="34")
    closed_one = make_resource(name="caméra en inventaire", category=cameras, departement_code="34")
    session.add_all(
        [
            Blackout(departement_code="31", starts_at=START + 2 * H, ends_at=START + 3 * H, reason="Inventaire"),
            Blackout(resource_id=closed_one.id, starts_at=START - D, ends_at=START + H, reason="Révision"),
            Blackout(departement_code="34", starts_at=END, ends_at=END + D, reason="Fermé après"),
        ]
    )
    session.commit()
    assert free_names(session) == {"compte du 31", "caméra ailleurs"}


def test_out_of_service_periods_open_or_ended_make_a_resource_unavailable_while_they_last(
    session, make_category, make_resource
):
    category = make_category()
    broken = make_resource(name="en panne", category=category)
    repaired = make_resource(name="réparé avant", category=category)
    breaks_later = make_resource(name="tombe en panne après", category=category)
    make_resource(name="en service", category=category)
    session.add_all(
        [
            OutOfService(resource_id=broken.id, starts_at=START - 10 * D, reason="Écran fêlé"),
            OutOfService(resource_id=repaired.id, starts_at=START - 10 * D, ends_at=START, reason="Batterie"),
            OutOfService(resource_id=breaks_later.id, starts_at=END, reason="Chute"),
        ]
    )
    session.commit()
    assert free_names(session) == {"réparé avant", "tombe en panne après", "en service"}
    assert [p.kind for p in availability.busy_periods(session, broken, START, END)] == ["out_of_service"]
    assert availability.busy_periods(session, broken, START, END)[0].held_until == END


def test_free_between_filters_by_category_and_departement_in_one_query(
    session, make_category, make_resource, make_user, make_booking, statements
):
    cameras, micros = make_category(), make_category()
    make_resource(name="caméra 31", category=cameras, departement_code="31")
    make_resource(name="caméra 34", category=cameras, departement_code="34")
    make_resource(name="micro 31", category=micros, departement_code="31")
    busy = make_resource(name="caméra 31 prise", category=cameras, departement_code="31")
    make_booking(resource=busy, user=make_user(), starts_at=START, ends_at=END)
    category_id = cameras.id
    session.expire_all()
    with statements() as seen:
        names = free_names(session, category_id=category_id, departement_code="31")
    assert names == {"caméra 31"}
    assert len(seen) == 1, seen


def test_busy_periods_are_exactly_those_meeting_the_window_whatever_the_history(
    session, make_category, make_resource, make_user, make_booking
):
    """A long history of bookings, some long, some no longer holding, against many windows:
    the window read finds exactly what a plain scan of every booking finds."""
    rng = random.Random(17)
    category = make_category(buffer_hours=6)
    camera = make_resource(category=category)
    member = make_user()
    made = []
    at = NOW - 400 * D
    for _ in range(120):
        at += timedelta(hours=rng.randint(1, 96))
        length = timedelta(hours=rng.choice((1, 5, 30, 200)))
        status = rng.choice(("approved", "approved", "picked_up", "returned", "cancelled", "rejected"))
        booking = Booking(
            resource_id=camera.id,
            user_id=member.id,
            starts_at=at,
            ends_at=at + length,
            held_until=at + length + category.buffer,
            status=status,
            purpose="",
            created_at=NOW,
            updated_at=NOW,
            sequence=0,
        )
        session.add(booking)
        made.append(booking)
        if status in ("approved", "picked_up", "returned"):
            at = booking.held_until  # holding ones never overlap; the others may
    session.commit()
    holding = [b for b in made if b.is_holding]
    for _ in range(60):
        start = NOW - 400 * D + timedelta(hours=rng.randint(0, 24 * 700))
        end = start + timedelta(hours=rng.choice((1, 24, 24 * 7, 24 * 35)))
        expected = sorted(b.id for b in holding if b.starts_at < end and start < b.held_until)
        found = sorted(p.booking_id for p in availability.busy_periods(session, camera, start, end) if p.booking_id)
        assert found == expected, (start, end)
        # Free for a new booking: its own buffer after `end` must be free too.
        blocking = [b for b in holding if b.starts_at < end + category.buffer and start < b.held_until]
        assert (camera.name in free_names(session, start, end)) == (not blocking)


def test_a_departements_periods_come_in_one_query_with_names_only_when_asked(
    session, make_category, make_resource, make_user, make_booking, statements
):
    category = make_category()
    member = make_user(display_name="Camille")
    units = [make_resource(category=category) for _ in range(3)]
    for unit in units[:2]:
        make_booking(resource=unit, user=member, starts_at=START, ends_at=END)
    session.add(Blackout(departement_code="31", starts_at=END, ends_at=END + D, reason="Inventaire"))
    session.commit()
    for unit in units:
        session.refresh(unit)  # loaded, as the week view has them
    with statements() as seen:
        named = availability.busy_periods_by_resource(session, units, START, END + D, with_names=True)
    anonymous = availability.busy_periods_by_resource(session, units, START, END + D)
    assert len(seen) == 1
    assert [[p.kind for p in named[u.id]] for u in units] == [["booking", "blackout"]] * 2 + [["blackout"]]
    assert named[units[0].id][0].holder_name == "Camille"
    assert anonymous[units[0].id][0].holder_name is None


def test_kits_free_counts_come_from_one_query(
    session, make_category, make_resource, make_user, make_booking, statements
):
    micro = make_category(name="Micro")
    camera = make_resource(name="Caméra")
    units = [make_resource(category=micro) for _ in range(5)]
    make_booking(resource=units[0], user=make_user(), starts_at=START, ends_at=END)
    live = Kit(slug="live", name="Live", description="", created_at=NOW)
    live.lines = [
        KitLine(position=0, resource_id=camera.id, quantity=1),
        KitLine(position=1, category_id=micro.id, quantity=2),
    ]
    duo = Kit(slug="duo", name="Duo", description="", created_at=NOW)
    duo.lines = [KitLine(position=0, category_id=micro.id, quantity=2)]
    session.add_all([live, duo])
    session.commit()
    for kit in (live, duo):
        session.refresh(kit)
        _ = [line.resource_id for line in kit.lines]
    with statements() as seen:
        counts = kits.free_counts(session, kits=[live, duo], starts_at=START, ends_at=END)
    assert len(seen) == 1
    # Four free microphones: two pairs; the one camera caps the live kit at one.
    assert counts == {live.id: 1, duo.id: 2}
    assert kits.free_count(session, kit=duo, starts_at=START, ends_at=END) == 2
