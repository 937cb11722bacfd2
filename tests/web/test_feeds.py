"""iCal feeds: what calendar apps need, checked on the raw text and with two independent parsers."""

from datetime import timedelta

import icalendar
import pytest
import vobject
from sqlalchemy import event, select

from app.db import unit_of_work
from app.extensions import db
from app.models import TrainingSession
from app.services import booking, feeds, training
from app.services.errors import Forbidden
from tests.factories import NOW


def lines_of(body: bytes) -> list[bytes]:
    assert body.endswith(b"\r\n") and b"\n" not in body.replace(b"\r\n", b"")
    return body.split(b"\r\n")[:-1]


def events_by_uid(body: bytes) -> dict[str, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(body)
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def new_token(session, ctx, user) -> str:
    with unit_of_work(session):
        return feeds.new_token(session, ctx(user))


@pytest.fixture
def scene(session, ctx, clock, make_user, make_category, make_resource):
    clock(NOW)  # the feeds' own clock: what is recent, what is long past
    cameras = make_category(name="Caméra", buffer_hours=12, min_lead_hours=0)
    camera = make_resource(
        name="Caméra « Sony », modèle FX30; batteries\\chargeurs", category=cameras, departement_code="11"
    )
    member = make_user(display_name="Léa Fabre")
    host = make_user(display_name="Martin Aubert", hosts=("11",))
    token = new_token(session, ctx, member)
    with unit_of_work(session):
        made = booking.create(
            session,
            ctx(member, now=NOW),
            resource=camera,
            starts_at=NOW + timedelta(days=2),
            ends_at=NOW + timedelta(days=3),
            purpose="Fête de la science, Carcassonne; « village » des sciences\nDeuxième ligne " + "é" * 80,
        )
    return {"camera": camera, "member": member, "host": host, "token": token, "booking": made, "now": NOW}


def test_the_personal_feed_is_valid_ical_that_two_parsers_read(client, scene):
    response = client.get(f"/feeds/me/{scene['token']}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.data
    uids = events_by_uid(body)
    made = scene["booking"]
    assert set(uids) == {
        f"booking-{made.id}@localhost",
        f"booking-{made.id}-pickup@localhost",
        f"booking-{made.id}-return@localhost",
    }
    assert str(uids[f"booking-{made.id}@localhost"]["STATUS"]) == "TENTATIVE"  # waiting for the host

    parsed = vobject.readOne(body.decode("utf-8"))
    summaries = sorted(str(e.summary.value) for e in parsed.vevent_list)
    assert any(s.startswith("Retrait : Caméra « Sony », modèle FX30; batteries\\chargeurs") for s in summaries)
    main = next(e for e in parsed.vevent_list if e.uid.value == f"booking-{made.id}@localhost")
    assert main.description.value.startswith(
        "Fête de la science, Carcassonne; « village » des sciences\nDeuxième ligne"
    )
    assert main.dtstart.value == made.starts_at.replace(microsecond=0)


def test_the_raw_text_follows_rfc_5545(client, scene):
    body = client.get(f"/feeds/me/{scene['token']}.ics").data
    lines = lines_of(body)
    assert lines[0] == b"BEGIN:VCALENDAR" and lines[-1] == b"END:VCALENDAR"
    assert b"METHOD:PUBLISH" in lines and b"VERSION:2.0" in lines
    assert any(line.startswith(b"X-WR-CALNAME:La Malle") for line in lines)
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H" in lines
    assert b"X-PUBLISHED-TTL:PT1H" in lines
    for line in lines:
        assert len(line) <= 75, line  # folded at 75 octets…
        line.decode("utf-8")  # …never inside a UTF-8 character
    unfolded = body.replace(b"\r\n ", b"").decode("utf-8")
    assert "SUMMARY:Réservation : Caméra « Sony »\\, modèle FX30\\; batteries\\\\chargeurs" in unfolded
    assert "Carcassonne\\; « village » des sciences\\nDeuxième ligne" in unfolded
    for field in ("DTSTAMP:", "LAST-MODIFIED:", "SEQUENCE:", "DTSTART:", "DTEND:"):
        assert field in unfolded
    assert "DTSTART:" + scene["booking"].starts_at.strftime("%Y%m%dT%H%M%SZ") in unfolded  # UTC times


def test_an_edit_grows_sequence_and_a_cancel_keeps_the_item_as_cancelled(client, session, ctx, scene):
    made, member = scene["booking"], scene["member"]
    uid = f"booking-{made.id}@localhost"
    first = events_by_uid(client.get(f"/feeds/me/{scene['token']}.ics").data)[uid]
    with unit_of_work(session):
        booking.change_dates(
            session,
            ctx(member, now=NOW + timedelta(hours=1)),
            booking=made,
            starts_at=NOW + timedelta(days=4),
            ends_at=NOW + timedelta(days=5),
        )
    second = events_by_uid(client.get(f"/feeds/me/{scene['token']}.ics").data)[uid]
    assert int(second["SEQUENCE"]) > int(first["SEQUENCE"])
    assert second.decoded("LAST-MODIFIED") > first.decoded("LAST-MODIFIED")
    with unit_of_work(session):
        booking.cancel(session, ctx(member, now=NOW + timedelta(hours=2)), booking=made)
    third = events_by_uid(client.get(f"/feeds/me/{scene['token']}.ics").data)
    assert str(third[uid]["STATUS"]) == "CANCELLED"
    assert int(third[uid]["SEQUENCE"]) > int(second["SEQUENCE"])
    # Thirty days on, the cancelled booking leaves the feed.
    later = feeds.personal(session, ctx(now=NOW + timedelta(days=31)), user=member, link=lambda *a, **k: None)
    assert uid not in {item.uid for item in later.events()}


def test_an_unchanged_feed_answers_304_to_its_etag_and_garbage_headers_get_a_200(client, scene):
    url = f"/feeds/me/{scene['token']}.ics"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert first.headers["Last-Modified"]
    assert client.get(url).headers["ETag"] == etag  # byte-for-byte the same when nothing changed
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]}).status_code == 304
    for garbage in ('"', "W/", "%%%", "x" * 5000):
        assert client.get(url, headers={"If-None-Match": garbage}).status_code == 200
    assert client.get(url, headers={"If-Modified-Since": "pas une date"}).status_code == 200


@pytest.mark.parametrize("token", ["x", "not-a-real-token-at-all-000000000000000", "a" * 500, "%00", "../../etc"])
def test_a_wrong_or_malformed_token_is_404(client, scene, token):
    assert client.get(f"/feeds/me/{token}.ics").status_code == 404
    assert client.get(f"/feeds/host/{token}.ics").status_code == 404


def test_a_new_token_kills_the_old_address_at_once(client, auth, session, scene):
    old = scene["token"]
    auth.login(scene["member"])
    page = client.get("/account").get_data(as_text=True)
    assert f"/feeds/me/{old}.ics" in page and "webcal://" in page
    client.post("/account/feeds/token")
    assert client.get(f"/feeds/me/{old}.ics").status_code == 404
    session.expire_all()
    assert client.get(f"/feeds/me/{scene['member'].feed_token}.ics").status_code == 200
    client.post("/account/feeds/revoke")
    session.expire_all()
    assert scene["member"].feed_token is None


def test_public_resource_and_departement_feeds_show_busy_without_names_or_purposes(client, scene):
    for url in (f"/feeds/resources/{scene['camera'].id}.ics", "/feeds/departements/11.ics"):
        response = client.get(url)
        assert response.status_code == 200
        text = response.data.replace(b"\r\n ", b"").decode()
        assert "Occupé" in text
        assert "Léa Fabre" not in text and "Carcassonne" not in text
        assert "public" in response.headers["Cache-Control"]
    assert client.get("/feeds/resources/999999.ics").status_code == 404
    assert client.get("/feeds/departements/99.ics").status_code == 404


def test_the_host_feed_lists_pickups_and_returns_with_who_comes(client, session, ctx, scene):
    token = new_token(session, ctx, scene["host"])
    text = client.get(f"/feeds/host/{token}.ics").data.replace(b"\r\n ", b"").decode()
    assert "Retrait : Caméra" in text and "Retour : Caméra" in text and "Léa Fabre" in text
    # A member's token does not open a host feed.
    assert client.get(f"/feeds/host/{scene['token']}.ics").status_code == 404


def test_waitlist_positions_are_tentative_in_the_personal_feed(client, session, ctx, clock, make_training, make_user):
    clock(NOW)
    course = make_training(capacity=1, starts_at=NOW + timedelta(days=5))
    first, second = make_user(), make_user()
    with unit_of_work(session):
        training.sign_up(session, ctx(first), training=course)
        waiting = training.sign_up(session, ctx(second), training=course)
    token = new_token(session, ctx, second)
    event = events_by_uid(client.get(f"/feeds/me/{token}.ics").data)[f"enrolment-{waiting.id}@localhost"]
    assert str(event["STATUS"]) == "TENTATIVE" and "Liste d'attente" in str(event["SUMMARY"])


def test_the_trainings_feed_filters_by_topic(client, clock, make_training, make_user):
    clock(NOW)
    trainer = make_user(roles={"trainer"})
    make_training(trainer=trainer, title="Session OBS", topic_id=1, starts_at=NOW + timedelta(days=3))
    make_training(trainer=trainer, title="Session Zoom", topic_id=4, starts_at=NOW + timedelta(days=4))
    everything = client.get("/feeds/trainings.ics").data.decode()
    assert "Session OBS" in everything and "Session Zoom" in everything
    only = client.get("/feeds/trainings.ics?topic=4").data.decode()
    assert "Session Zoom" in only and "Session OBS" not in only
    assert client.get("/feeds/trainings.ics?topic=<script>").status_code == 200


def test_add_to_my_calendar_downloads_one_booking(client, auth, scene, make_user):
    auth.login(scene["member"])
    response = client.get(f"/bookings/{scene['booking'].id}.ics")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert len(events_by_uid(response.data)) == 3
    auth.logout()
    auth.login(make_user())
    assert client.get(f"/bookings/{scene['booking'].id}.ics").status_code == 403


def test_a_feed_of_many_items_costs_a_handful_of_queries(app, client, session, scene, make_resource, make_booking):
    member = scene["member"]
    base = NOW + timedelta(days=10)
    for n in range(60):
        resource = make_resource(departement_code=("11", "34", "31")[n % 3])
        make_booking(
            resource=resource,
            user=member,
            starts_at=base + timedelta(days=n),
            ends_at=base + timedelta(days=n, hours=5),
        )
    statements = []

    def count(*args, **kwargs):
        statements.append(1)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            body = client.get(f"/feeds/me/{scene['token']}.ics").data
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    assert len(events_by_uid(body)) == 61 * 3
    assert len(statements) <= 8, len(statements)


def test_feed_requests_are_rate_limited_per_address(make_app, make_resource):
    resource = make_resource()
    client = make_app(FEED_RATE_LIMIT="3 per minute").test_client()
    codes = [client.get(f"/feeds/resources/{resource.id}.ics").status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]


def test_every_feed_parses_in_two_independent_parsers(client, session, ctx, scene, make_training, make_user):
    make_training(trainer=make_user(roles={"trainer"}), starts_at=NOW + timedelta(days=3))
    host_token = new_token(session, ctx, scene["host"])
    for url in (
        f"/feeds/me/{scene['token']}.ics",
        f"/feeds/host/{host_token}.ics",
        f"/feeds/resources/{scene['camera'].id}.ics",
        "/feeds/departements/11.ics",
        "/feeds/trainings.ics",
        f"/trainings/{session.scalar(select(TrainingSession.id))}.ics",
    ):
        body = client.get(url).data
        by_icalendar = sorted(str(e["UID"]) for e in icalendar.Calendar.from_ical(body).walk("VEVENT"))
        parsed = vobject.readOne(body.decode("utf-8"))
        by_vobject = sorted(e.uid.value for e in getattr(parsed, "vevent_list", []))
        assert by_icalendar == by_vobject and by_icalendar, url


def test_the_etag_changes_whenever_the_feed_body_changes(client, session, ctx, scene):
    url = f"/feeds/me/{scene['token']}.ics"
    first = client.get(url)
    with unit_of_work(session):
        booking.approve(session, ctx(scene["host"], now=NOW + timedelta(minutes=1)), booking=scene["booking"])
    second = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and second.headers["ETag"] != first.headers["ETag"]
    assert second.data != first.data


def test_a_feed_token_is_made_and_revoked_only_for_oneself(session, ctx, make_user):
    with pytest.raises(Forbidden), unit_of_work(session):
        feeds.new_token(session, ctx(None))
    person = make_user()
    token = new_token(session, ctx, person)
    assert feeds.user_for_token(session, token) == person
    with unit_of_work(session):
        feeds.revoke_token(session, ctx(person))
    assert feeds.user_for_token(session, token) is None


def test_a_feed_keeps_past_bookings_ninety_days_by_the_feeds_clock(client, clock, scene):
    url = f"/feeds/me/{scene['token']}.ics"
    uid = f"booking-{scene['booking'].id}@localhost"
    clock(NOW + timedelta(days=3 + 89))
    assert uid in events_by_uid(client.get(url).data)
    clock(NOW + timedelta(days=3 + 91))
    assert uid not in events_by_uid(client.get(url).data)


def test_a_feed_answers_304_to_the_weak_etag_a_gzipping_proxy_hands_back(client, scene):
    url = f"/feeds/me/{scene['token']}.ics"
    first = client.get(url)
    assert first.status_code == 200
    weak = f'W/"{first.get_etag()[0]}"'
    assert client.get(url, headers={"If-None-Match": weak}).status_code == 304
    assert client.get(url, headers={"If-None-Match": 'W/"autre"'}).status_code == 200
