"""Each occurrence of a series is a booking of its own in the personal feed, with a UID that stays."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import select

from app.db import unit_of_work
from app.models import Booking, Recurrence
from app.services import feeds, series
from tests.factories import NOW, ctx

PARIS = ZoneInfo("Europe/Paris")


def events_by_uid(body: bytes) -> dict[str, icalendar.Event]:
    return {str(e["UID"]): e for e in icalendar.Calendar.from_ical(body).walk("VEVENT")}


def test_cancelling_one_occurrence_leaves_the_others_uids_and_sequences_unchanged(
    client, session, clock, make_user, make_category, make_resource
):
    clock(NOW)
    member = make_user()
    camera = make_resource(category=make_category(needs_approval=False), departement_code="31")
    first = datetime(2027, 3, 17, 10, tzinfo=PARIS).astimezone(UTC)
    with unit_of_work(session):
        token = feeds.new_token(session, ctx(member))
        made = series.book(
            session,
            ctx(member),
            resource=camera,
            starts_at=first,
            ends_at=first + timedelta(hours=2),
            recurrence=Recurrence.WEEKLY,
            count=4,
            purpose="Live",
        )
    ids = [b.id for b in made.bookings]
    uids = [f"booking-{i}@localhost" for i in ids]
    before = events_by_uid(client.get(f"/feeds/me/{token}.ics").data)
    assert set(uids) <= set(before)

    with unit_of_work(session):
        series.cancel(
            session, ctx(member, now=NOW + timedelta(hours=1)), booking=session.get(Booking, ids[1]), scope="one"
        )
    after = events_by_uid(client.get(f"/feeds/me/{token}.ics").data)
    assert set(before) == set(after)  # nobody's event is replaced by a new one
    for uid in (uids[0], uids[2], uids[3]):
        assert int(after[uid]["SEQUENCE"]) == int(before[uid]["SEQUENCE"])
        assert str(after[uid]["STATUS"]) == "CONFIRMED"
        assert after[uid].decoded("DTSTART") == before[uid].decoded("DTSTART")
    assert str(after[uids[1]]["STATUS"]) == "CANCELLED"
    assert int(after[uids[1]]["SEQUENCE"]) > int(before[uids[1]]["SEQUENCE"])
    assert session.scalars(select(Booking).where(Booking.series_id == made.series.id)).all()
