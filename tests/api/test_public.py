"""Public reads for partners' pages: the catalogue with its filters and pages, availability without
names, categories, trainings with their seats, the agenda with schema.org fields; ETag and 304."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from tests.api.conftest import NOW, iso


def q(instant) -> str:
    return quote(iso(instant))


def test_the_catalogue_pages_with_next_links_and_keeps_its_filters(api, make_category, make_resource):
    cameras = make_category(name="Caméra")
    for n in range(3):
        make_resource(name=f"Caméra {n}", category=cameras, departement_code="34")
    make_resource(name="Micro", departement_code="34")
    first = api.get(f"/api/v1/resources?category={cameras.id}&departement=34&per_page=2")
    assert first.status_code == 200
    page = first.json
    assert page["total"] == 3 and len(page["items"]) == 2 and page["previous"] is None
    assert page["next"] == f"http://localhost/api/v1/resources?category={cameras.id}&departement=34&per_page=2&page=2"
    second = api.get(page["next"]).json
    assert [r["name"] for r in second["items"]] == ["Caméra 2"] and second["next"] is None
    item = page["items"][0]
    assert item["category"] == {"id": cameras.id, "name": "Caméra"}
    assert item["departement"] == {"code": "34", "name": "Hérault"}
    assert item["url"] == f"http://localhost/resources/{item['id']}"


def test_free_between_leaves_out_what_is_held(api, make_resource, make_user, make_booking):
    taken = make_resource(name="Prise")
    make_resource(name="Libre")
    make_booking(resource=taken, user=make_user(), starts_at=NOW + timedelta(days=1), ends_at=NOW + timedelta(days=2))
    window = f"free_from={q(NOW + timedelta(days=1, hours=2))}&free_until={q(NOW + timedelta(days=1, hours=4))}"
    names = [r["name"] for r in api.get(f"/api/v1/resources?{window}").json["items"]]
    assert names == ["Libre"]


def test_a_retired_resource_is_not_public(api, make_resource):
    retired = make_resource(retired_at=NOW - timedelta(days=1))
    assert api.get(f"/api/v1/resources/{retired.id}").status_code == 404
    assert api.get("/api/v1/resources").json["total"] == 0


def test_a_resource_shows_its_pickup_point_and_hours(api, make_resource, make_pickup_point):
    make_pickup_point(departement_code="31", hours=[(0, "09:00", "12:00")], address="2 rue du Lac")
    found = make_resource(name="Caméra", contents="Batterie\nChargeur")
    body = api.get(f"/api/v1/resources/{found.id}").json
    assert body["contents"] == ["Batterie", "Chargeur"]
    assert body["pickup_point"]["address"] == "2 rue du Lac"
    assert body["pickup_point"]["opening_hours"] == ["lundi : 9\u00a0h\u00a000 – 12\u00a0h\u00a000"]
    assert body["availability"] == f"http://localhost/api/v1/resources/{found.id}/availability"


def test_availability_gives_busy_periods_without_names_and_free_slots_within_opening_hours(
    api, make_resource, make_pickup_point, make_user, make_booking
):
    make_pickup_point(departement_code="31", hours=[(0, "09:00", "12:00"), (1, "09:00", "12:00")])
    found = make_resource()
    monday_10 = NOW  # 2027-01-11 09:00 UTC, 10:00 in Paris
    make_booking(
        resource=found,
        user=make_user(display_name="Secret"),
        starts_at=monday_10,
        ends_at=monday_10 + timedelta(hours=1),
        purpose="privé",
    )
    start, end = NOW - timedelta(hours=2), NOW + timedelta(days=1, hours=2)
    response = api.get(f"/api/v1/resources/{found.id}/availability?start={q(start)}&end={q(end)}")
    assert response.status_code == 200
    body = response.json
    assert "Secret" not in response.get_data(as_text=True) and "privé" not in response.get_data(as_text=True)
    assert body["busy"] == [
        {
            "start": "2027-01-11T09:00:00Z",
            "end": "2027-01-11T10:00:00Z",
            "held_until": "2027-01-11T10:00:00Z",
            "kind": "booking",
        }
    ]
    assert body["free"] == [
        {"start": "2027-01-11T08:00:00Z", "end": "2027-01-11T09:00:00Z"},
        {"start": "2027-01-11T10:00:00Z", "end": "2027-01-11T11:00:00Z"},
        {"start": "2027-01-12T08:00:00Z", "end": "2027-01-12T11:00:00Z"},
    ]


def test_availability_needs_a_bounded_window(api, make_resource):
    found = make_resource()
    too_long = api.get(f"/api/v1/resources/{found.id}/availability?start={q(NOW)}&end={q(NOW + timedelta(days=200))}")
    assert too_long.status_code == 422
    backwards = api.get(f"/api/v1/resources/{found.id}/availability?start={q(NOW)}&end={q(NOW - timedelta(days=1))}")
    assert backwards.status_code == 422
    missing = api.get(f"/api/v1/resources/{found.id}/availability")
    assert set(missing.json["error"]["fields"]) == {"start", "end"}


def test_categories_carry_their_booking_rules(api, make_category):
    make_category(name="Compte Zoom", needs_pickup=False, max_duration_hours=8, per_member_limit=1)
    item = api.get("/api/v1/categories").json["items"][0]
    assert item["name"] == "Compte Zoom"
    assert item["needs_pickup"] is False and item["max_duration_hours"] == 8 and item["per_member_limit"] == 1


def test_trainings_show_their_seats(api, make_training, make_user, session):
    from app.models import Enrolment

    training = make_training(capacity=2, title="OBS")
    session.add(
        Enrolment(
            session_id=training.id,
            user_id=make_user().id,
            status="registered",
            queued_at=NOW,
            created_at=NOW,
            updated_at=NOW,
        )
    )
    session.commit()
    item = api.get("/api/v1/trainings").json["items"][0]
    assert item["title"] == "OBS"
    assert (item["capacity"], item["seats_taken"], item["seats_left"], item["waitlisted"]) == (2, 1, 1, 0)
    assert api.get("/api/v1/trainings?mode=in_person").json["total"] == 0


def test_agenda_events_carry_schema_org_event_fields(api, make_event):
    make_event(
        title="Nuit des étoiles",
        themes=("festival",),
        link="https://example.org/nuit",
        town="Albi",
        departement_code="81",
    )
    make_event(title="Lien douteux", link="javascript:alert(1)")
    make_event(title="Ailleurs dans le temps", starts_at=NOW + timedelta(days=60))
    response = api.get("/api/v1/agenda?month=2027-01")
    events = {e["title"]: e for e in response.json["items"]}
    assert set(events) == {"Nuit des étoiles", "Lien douteux"}
    event = events["Nuit des étoiles"]["schema_org"]
    assert event["@context"] == "https://schema.org" and event["@type"] == "Event"
    assert event["startDate"] == "2027-01-16T09:00:00Z"
    assert event["location"]["address"]["addressLocality"] == "Albi"
    assert event["location"]["address"]["addressRegion"] == "Tarn"
    assert event["eventStatus"] == "https://schema.org/EventScheduled"
    assert event["url"] == "https://example.org/nuit"
    assert events["Lien douteux"]["link"] is None
    assert events["Lien douteux"]["schema_org"]["url"].startswith("http://localhost/agenda/")


def test_the_agenda_refuses_a_month_that_is_not_one(api):
    response = api.get("/api/v1/agenda?month=2027-13")
    assert response.status_code == 422
    assert "month" in response.json["error"]["fields"]


def test_public_reads_answer_304_to_their_etag(api, make_resource):
    make_resource()
    first = api.get("/api/v1/resources")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=60"
    assert "Accept-Language" in first.headers["Vary"]
    again = api.get("/api/v1/resources", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    make_resource()
    assert api.get("/api/v1/resources", headers={"If-None-Match": etag}).status_code == 200


def test_public_reads_need_no_token_and_ignore_a_wrong_one(api, make_resource):
    make_resource()
    assert api.get("/api/v1/resources", token="not-a-real-token-but-shaped-like-one").status_code == 200
