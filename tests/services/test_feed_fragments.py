"""Feeds written once per change: the fast writer against the icalendar reference, and what is kept."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import vobject
from flask import url_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select

from app.db import unit_of_work
from app.extensions import db
from app.models import (
    AgendaEvent,
    Booking,
    BookingStatus,
    Departement,
    Enrolment,
    EnrolmentStatus,
    TrainingSession,
)
from app.services import agenda, booking, feeds, ical
from app.web.feeds.ics import fragments
from tests.factories import NOW

FIELDS = ("UID", "SUMMARY", "DTSTART", "DTEND", "DTSTAMP", "LAST-MODIFIED", "SEQUENCE", "STATUS")
OPTIONAL = ("DESCRIPTION", "LOCATION", "URL")


def events_of(body: bytes) -> dict[str, dict[str, object]]:
    """Each VEVENT as icalendar reads it back: its properties' values, by UID."""
    found = {}
    for vevent in icalendar.Calendar.from_ical(body).walk("VEVENT"):
        values = {name: vevent.decoded(name) for name in FIELDS}
        values.update({name: vevent.decoded(name) if name in vevent else None for name in OPTIONAL})
        found[str(vevent["UID"])] = values
    return found


def blocks_of(body: bytes) -> dict[str, bytes]:
    """Each VEVENT's text, byte for byte, by UID."""
    blocks = {}
    for block in body.split(b"BEGIN:VEVENT\r\n")[1:]:
        block = block[: block.index(b"END:VEVENT\r\n")]
        uid = next(line for line in block.replace(b"\r\n ", b"").split(b"\r\n") if line.startswith(b"UID:"))
        blocks[uid[4:].decode()] = block
    return blocks


def unfolded(body: bytes) -> str:
    return body.replace(b"\r\n ", b"").decode()


def assert_well_formed(body: bytes) -> None:
    assert body.endswith(b"\r\n") and b"\n" not in body.replace(b"\r\n", b"")
    for line in body.split(b"\r\n")[:-1]:
        assert len(line) <= 75, line  # folded at 75 octets…
        line.decode("utf-8")  # …never inside a UTF-8 character


# The writer, on any text ------------------------------------------------------------------------

awkward = st.text(alphabet=st.sampled_from(list('ab \\^;,:\n\r\téÉ€😀N«»"')), max_size=200)
anything = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=200)
instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
feed_events = st.builds(
    ical.FeedEvent,
    uid=st.text(alphabet="abcdef-@.0123456789", min_size=1, max_size=100),
    summary=st.one_of(awkward, anything),
    starts_at=instants,
    ends_at=instants,
    updated_at=instants,
    sequence=st.integers(min_value=0, max_value=10**6),
    status=st.sampled_from(["CONFIRMED", "TENTATIVE", "CANCELLED"]),
    description=st.one_of(awkward, anything),
    location=st.one_of(awkward, anything),
    url=st.one_of(st.none(), st.text(alphabet="abcé/:.?=&%#", max_size=150)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(feed_events, max_size=4), name=st.text(alphabet="La Mle—éÉ,;\\()0123", max_size=100))
def test_the_fast_writer_writes_the_very_text_icalendar_writes(items, name):
    fast = ical.write(name, ical.Feed.of(items), ical.Fragments()).body()
    assert fast == ical.calendar(name, items)
    assert_well_formed(fast)
    assert events_of(fast) == events_of(ical.calendar(name, items))


def test_the_fast_writer_folds_exactly_where_icalendar_folds():
    """Around each fold: a line just short or just long enough, a character of 2, 3 or 4 octets
    across the limit, an escaped character (kept whole with its backslash) at the limit."""
    texts = []
    for length in range(55, 160):
        for tail in ("", "é", "€", "😀" * 3, ";", ",,", "\\", "\n", "^", "é;"):
            texts.append("a" * length + tail + "b" * 5)
    items = [
        ical.FeedEvent(
            uid=f"item-{n}@localhost",
            summary=text,
            starts_at=NOW,
            ends_at=NOW,
            updated_at=NOW,
            sequence=n,
            description=text[::-1],
            location="é" + text,
        )
        for n, text in enumerate(texts)
    ]
    fast = ical.write("Plis", ical.Feed.of(items), ical.Fragments()).body()
    assert fast == ical.calendar("Plis", items)
    assert_well_formed(fast)


def test_a_line_break_in_a_feed_s_name_does_not_break_the_feed():
    body = ical.write("La Malle —\nLéa\r\nFabre", ical.Feed([]), ical.Fragments()).body()
    assert b"X-WR-CALNAME:La Malle \xe2\x80\x94 L\xc3\xa9a Fabre\r\n" in body
    assert_well_formed(body)


# Every item of every feed, both ways, in both languages -----------------------------------------


@pytest.fixture
def world(
    session,
    ctx,
    clock,
    make_user,
    make_category,
    make_resource,
    make_pickup_point,
    make_booking,
    make_training,
    make_event,
):
    """A member with a booking in every state, of an item handed over and of an online account;
    enrolments of every kind; trainings and agenda events, some cancelled."""
    clock(NOW)
    member = make_user(display_name="Léa Fabre, médiatrice")
    host = make_user(display_name="Martin Aubert", hosts=("11",))
    make_pickup_point(
        departement_code="11", name="Maison des sciences; Carcassonne", address="12, rue de Verdun\n  11000 Carcassonne"
    )
    camera = make_resource(
        name="Caméra « Sony », modèle FX30; batteries\\chargeurs",
        category=make_category(name="Caméra", buffer_hours=12),
        departement_code="11",
    )
    zoom = make_resource(name="Zoom n° 2", category=make_category(needs_pickup=False), departement_code="11")
    bookings = []
    for n, status in enumerate(BookingStatus):
        for resource in (camera, zoom):
            start = NOW + timedelta(days=2 + 3 * n, hours=n)
            bookings.append(
                make_booking(
                    resource=resource,
                    user=member,
                    starts_at=start,
                    ends_at=start + timedelta(hours=5),
                    status=status.value,
                    purpose=f"Fête de la science, {status.value}; « village »\nDeuxième ligne " + "é" * 40,
                    updated_at=NOW - timedelta(days=2, minutes=n),
                    sequence=n,
                )
            )
    # Cancelled more than 30 days ago: in no feed.
    make_booking(
        resource=camera,
        user=member,
        starts_at=NOW + timedelta(days=60),
        ends_at=NOW + timedelta(days=61),
        status="cancelled",
        updated_at=NOW - timedelta(days=31),
    )
    in_person = make_training(
        title="Le direct, en vrai", mode="in_person", place="Fab Lab, salle 2", departement_code="34", video_link=None
    )
    online = make_training(title="OBS; « premiers pas »", starts_at=NOW + timedelta(days=12))
    called_off = make_training(starts_at=NOW + timedelta(days=14), cancelled_at=NOW - timedelta(days=1), sequence=1)
    later = make_training(starts_at=NOW + timedelta(days=16))
    for training, status in (
        (in_person, EnrolmentStatus.REGISTERED),
        (online, EnrolmentStatus.WAITLISTED),
        (called_off, EnrolmentStatus.REGISTERED),
        (later, EnrolmentStatus.CANCELLED),
    ):
        session.add(
            Enrolment(
                session_id=training.id,
                user_id=member.id,
                status=status,
                queued_at=NOW - timedelta(days=3),
                created_at=NOW - timedelta(days=3),
                updated_at=NOW - timedelta(days=3),
                sequence=2,
            )
        )
    make_event(title="Nuit des étoiles, Pic du Midi; « astronomie »", description="Au sommet\n")
    make_event(title="Café annulé", status="cancelled", starts_at=NOW + timedelta(days=8))
    with unit_of_work(session):
        feeds.new_token(session, ctx(member))
        feeds.new_token(session, ctx(host))
    return {"member": member, "host": host, "camera": camera, "bookings": bookings}


def _url(endpoint: str, **values) -> str:
    return url_for(endpoint, _external=True, **values)


def reference_feeds(session, world) -> dict[str, list[ical.FeedEvent]]:
    """Each feed's events as the loaded objects give them, one by one: the reference path."""
    member, camera, listed = world["member"], world["camera"], world["bookings"]
    domain = "localhost"
    personal = [e for b in listed for e in feeds.booking_items(b, domain, _url("bookings.detail", booking_id=b.id))]
    enrolments = session.query(Enrolment).filter_by(user_id=member.id).all()
    personal += [
        feeds.enrolment_item(e, domain, _url("trainings.detail", training_id=e.session_id)) for e in enrolments
    ]
    host = []
    for b in listed:
        if b.resource.category.needs_pickup:
            for e in feeds.booking_items(b, domain, _url("bookings.detail", booking_id=b.id))[1:]:
                host.append(replace(e, summary=f"{e.summary} — {member.display_name}", description=member.email))
    trainings = session.query(TrainingSession).all()
    events = session.query(AgendaEvent).all()
    return {
        f"/feeds/me/{member.feed_token}.ics": personal,
        f"/feeds/host/{world['host'].feed_token}.ics": host,
        f"/feeds/resources/{camera.id}.ics": [
            feeds.busy_item(b, domain, with_resource_name=False) for b in listed if b.resource_id == camera.id
        ],
        "/feeds/departements/11.ics": [feeds.busy_item(b, domain, with_resource_name=True) for b in listed],
        "/feeds/trainings.ics": [
            feeds.training_item(t, domain, _url("trainings.detail", training_id=t.id)) for t in trainings
        ],
        "/feeds/agenda.ics": [feeds.agenda_item(e, domain, _url("agenda.detail", event_id=e.id)) for e in events],
    }


@pytest.fixture
def site(make_app):
    """The app as a server runs it: each request in an app context of its own (the test's own
    app context would keep the first request's language for the next)."""
    return make_app(FIXED_NOW=NOW)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_item_of_every_feed_reads_the_same_written_both_ways(site, session, world, lang):
    with site.test_request_context(f"/?lang={lang}"):
        expected = {url: ical.calendar("reference", items) for url, items in reference_feeds(session, world).items()}
    client = site.test_client()
    for url, reference in expected.items():
        body = client.get(f"{url}?lang={lang}").data
        assert_well_formed(body)
        fast, wanted = events_of(body), events_of(reference)
        assert wanted, url
        assert fast == wanted, url
        assert blocks_of(body) == blocks_of(reference), url
        parsed = vobject.readOne(body.decode("utf-8"))
        assert sorted(e.uid.value for e in parsed.vevent_list) == sorted(wanted), url
    member_feed = client.get(f"/feeds/me/{world['member'].feed_token}.ics?lang={lang}").data.decode()
    assert ("Booking: " if lang == "en" else "Réservation : ") in member_feed


CALENDAR_STATUS = {
    "proposed": "TENTATIVE",  # a waitlist hold, until its holder answers
    "requested": "TENTATIVE",
    "approved": "CONFIRMED",
    "picked_up": "CONFIRMED",
    "returned": "CONFIRMED",
    "no_show": "CONFIRMED",  # its pickup and return are cancelled
    "rejected": "CANCELLED",
    "cancelled": "CANCELLED",
    "lapsed": "CANCELLED",
}


@pytest.mark.parametrize(("status", "said"), CALENDAR_STATUS.items())
def test_each_booking_state_has_its_calendar_status(client, world, status, said):
    made = next(b for b in world["bookings"] if b.status == status and b.resource.category.needs_pickup)
    found = events_of(client.get(f"/feeds/me/{world['member'].feed_token}.ics").data)
    assert found[f"booking-{made.id}@localhost"]["STATUS"] == said
    handovers = "CANCELLED" if status == "no_show" else said
    assert found[f"booking-{made.id}-pickup@localhost"]["STATUS"] == handovers


def test_a_new_booking_state_is_given_its_calendar_status_above():
    assert set(CALENDAR_STATUS) == {status.value for status in BookingStatus}


# Written once, kept, and rewritten only when what it shows changes ---------------------------------


def test_an_unchanged_feed_is_served_byte_for_byte_from_what_was_kept(client, world):
    url = f"/feeds/me/{world['member'].feed_token}.ics"
    store = fragments()
    first = client.get(url)
    written = store.written
    second = client.get(url)
    assert second.data == first.data and second.headers["ETag"] == first.headers["ETag"]
    assert store.written == written


def test_a_change_to_one_booking_rewrites_that_booking_only(client, session, ctx, world):
    url = f"/feeds/me/{world['member'].feed_token}.ics"
    store = fragments()
    first = client.get(url)
    waiting = next(
        b for b in world["bookings"] if b.status == BookingStatus.REQUESTED and b.resource.category.needs_pickup
    )
    with unit_of_work(session):
        booking.approve(session, ctx(world["host"], now=NOW + timedelta(minutes=5)), booking=waiting)
    written = store.written
    second = client.get(url)
    assert store.written == written + 1
    assert second.headers["ETag"] != first.headers["ETag"]
    changed = {uid for uid, values in events_of(second.data).items() if values != events_of(first.data)[uid]}
    assert changed == {f"booking-{waiting.id}{part}@localhost" for part in ("", "-pickup", "-return")}


def test_a_renamed_item_a_moved_pickup_point_or_a_renamed_holder_shows_at_once(client, session, world):
    """These change no booking's SEQUENCE, yet the events show them: they are part of the key."""
    camera, member = world["camera"], world["member"]
    personal = f"/feeds/me/{member.feed_token}.ics"
    host = f"/feeds/host/{world['host'].feed_token}.ics"
    before = client.get(personal)
    camera.name = "Caméra Panasonic"
    camera.pickup_point.address = "3 place Carnot, 11000 Carcassonne"
    member.display_name = "Léa Fabre-Roux"
    session.commit()
    after = client.get(personal)
    assert after.headers["ETag"] != before.headers["ETag"]
    text = unfolded(after.data)
    assert "Caméra Panasonic" in text and "3 place Carnot" in text and "« Sony »" not in text
    assert "Léa Fabre-Roux" in unfolded(client.get(host).data)
    assert "Occupé : Caméra Panasonic" in unfolded(client.get("/feeds/departements/11.ics").data)


def test_each_language_is_kept_apart(site, world):
    url, client = "/feeds/departements/11.ics", site.test_client()
    french, english = client.get(f"{url}?lang=fr"), client.get(f"{url}?lang=en")
    assert "Occupé : " in unfolded(french.data) and "Busy: " in unfolded(english.data)
    assert french.headers["ETag"] != english.headers["ETag"]
    with site.app_context():
        store = fragments()
    written = store.written
    assert client.get(f"{url}?lang=fr").data == french.data
    assert client.get(f"{url}?lang=en").data == english.data
    assert store.written == written


def test_another_process_answers_304_to_the_same_etag_without_writing_an_event(client, site, world):
    url = f"/feeds/me/{world['member'].feed_token}.ics"
    etag = client.get(url).headers["ETag"]
    # `site` is another app with a store of its own, as another worker has.
    answer = site.test_client().get(url, headers={"If-None-Match": etag})
    assert answer.status_code == 304 and answer.headers["ETag"] == etag
    with site.app_context():
        assert fragments().written == 0


def test_a_feed_reads_its_bookings_with_one_statement(client, world):
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get("/feeds/departements/11.ics").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len([s for s in statements if "FROM bookings" in s]) == 1
    assert len(statements) <= 3, statements


def test_the_kept_texts_stay_within_their_budget_the_least_recently_used_going_first():
    items = [
        ical.FeedEvent(
            uid=f"item-{n}@localhost",
            summary=f"Élément {n}",
            starts_at=NOW + timedelta(days=n),
            ends_at=NOW + timedelta(days=n, hours=1),
            updated_at=NOW,
            sequence=0,
        )
        for n in range(50)
    ]
    store = ical.Fragments(max_bytes=10_000)  # room for a dozen of these
    whole = ical.write("Tout", ical.Feed.of(items), store).body()
    assert store.size <= store.max_bytes and len(store) < 50
    assert whole == ical.calendar("Tout", items)  # all written, though not all kept
    written = store.written
    ical.write("Les derniers", ical.Feed.of(items[-5:]), store).body()
    assert store.written == written  # the latest were kept
    ical.write("Les premiers", ical.Feed.of(items[:5]), store).body()
    assert store.written == written + 5


def test_a_departement_label_in_a_feed_is_the_departement_s_own():
    assert feeds._label("11", "Aude") == Departement(code="11", name="Aude").label


def test_the_feeds_list_no_booking_cancelled_more_than_thirty_days_ago(session, ctx, world):
    feed = feeds.personal(session, ctx(now=NOW), user=world["member"], link=lambda *a, **k: None)
    listed = {p.ident for p in feed.pieces if p.kind == "booking"}
    assert listed == {b.id for b in world["bookings"]}
    assert session.query(Booking).filter_by(user_id=world["member"].id).count() == len(listed) + 1


def test_the_agenda_feed_read_from_its_rows_is_the_one_its_events_give(app, session, ctx, world, make_event):
    make_event(title="Fête de la science, Montpellier", departement_code="34", town="Montpellier")
    make_event(title="Passée depuis longtemps", starts_at=NOW - timedelta(days=60))
    make_event(title="À relire", status="proposed")
    everything, in_34 = agenda.AgendaFilter(), agenda.AgendaFilter(departement_code="34")
    with app.test_request_context("/"):
        for filters in (everything, in_34):
            feed = feeds.agenda(session, ctx(now=NOW), events=agenda.public_events(ctx(), filters), link=_url)
            shown = session.scalars(agenda.public_events(ctx(), filters)).unique()
            listed = [e for e in shown if e.ends_at > NOW - feeds.KEEP_CANCELLED]
            items = [feeds.agenda_item(e, "localhost", _url("agenda.detail", event_id=e.id)) for e in listed]
            body = ical.write("Agenda", feed, ical.Fragments()).body()
            assert blocks_of(body) == blocks_of(ical.calendar("Agenda", items))
            assert feed.last_modified == max(e.updated_at for e in listed)
    assert {p.ident for p in feed.pieces} == {
        e.id for e in session.scalars(select(AgendaEvent).where(AgendaEvent.departement_code == "34"))
    }
