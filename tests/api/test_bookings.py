"""A member's script books, meets a conflict, cancels, books a kit and signs up for trainings;
a host's works the desk — all through the API, with the services' own rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.db import unit_of_work
from app.models import Booking, BookingStatus, Enrolment, KitBooking
from app.services import kits
from app.services.kits import LineSpec
from tests.api.conftest import NOW, iso
from tests.factories import ctx

START = NOW + timedelta(days=2)
END = NOW + timedelta(days=3)


@pytest.fixture
def member(make_user):
    return make_user(display_name="Léa Membre", departement_code="31")


@pytest.fixture
def token(member, make_token):
    return make_token(member)


@pytest.fixture
def camera(make_category, make_resource):
    cameras = make_category(name="Caméra", needs_approval=False, max_duration_hours=48)
    return make_resource(name="Caméra de Toulouse", category=cameras, departement_code="31")


def book(api, token, target, start=START, end=END, **extra):
    return api.post("/api/v1/bookings", token=token, json={**target, "start": iso(start), "end": iso(end), **extra})


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_booking_a_resource_answers_201_with_the_booking(api, token, camera, session):
    response = book(api, token, {"resource_id": camera.id}, purpose="Fête de la science")
    assert response.status_code == 201
    made = response.json
    assert made["resource"] == {
        "id": camera.id,
        "name": "Caméra de Toulouse",
        "category": "Caméra",
        "departement_code": "31",
    }
    assert made["status"] == "approved" and made["purpose"] == "Fête de la science"
    assert made["start"] == "2027-01-13T09:00:00Z"
    assert response.headers["Location"] == made["url"]
    assert session.get(Booking, made["id"]).starts_at == START


def test_an_offset_other_than_utc_names_the_same_instant(api, token, camera):
    response = api.post(
        "/api/v1/bookings",
        token=token,
        json={"resource_id": camera.id, "start": "2027-01-15T10:00:00+01:00", "end": "2027-01-15T12:00:00+01:00"},
    )
    assert response.status_code == 201
    assert (response.json["start"], response.json["end"]) == ("2027-01-15T09:00:00Z", "2027-01-15T11:00:00Z")


def test_a_conflict_answers_409_with_the_next_free_slot(api, token, camera, make_user, make_token, session):
    assert book(api, token, {"resource_id": camera.id}).status_code == 201
    other = make_token(make_user())
    response = book(api, other, {"resource_id": camera.id}, start=START + timedelta(hours=2), end=END)
    assert response.status_code == 409
    error = response.json["error"]
    assert error["code"] == "conflict"
    assert "Déjà réservé" in error["message"]
    assert error["fields"] == {"start": [error["message"]]}
    slot = error["next_free_slot"]
    assert slot["start"] >= "2027-01-14T09:00:00Z"
    assert count(session, Booking) == 1


def test_a_rule_answers_422_and_books_nothing(api, token, camera, session):
    response = book(api, token, {"resource_id": camera.id}, end=START + timedelta(days=5))
    assert response.status_code == 422
    assert response.json["error"]["code"] == "rule_violation"
    assert "end" in response.json["error"]["fields"]
    assert count(session, Booking) == 0


def test_a_pending_account_may_not_book(api, make_user, make_token, camera, session):
    response = book(api, make_token(make_user(approved=False)), {"resource_id": camera.id})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"
    assert count(session, Booking) == 0


def test_cancelling_one_s_booking_frees_it(api, token, camera, session):
    made = book(api, token, {"resource_id": camera.id}).json
    response = api.post(f"/api/v1/bookings/{made['id']}/cancel", token=token)
    assert response.status_code == 200
    assert response.json["status"] == "cancelled"
    assert session.get(Booking, made["id"]).status is BookingStatus.CANCELLED
    again = api.post(f"/api/v1/bookings/{made['id']}/cancel", token=token)
    assert again.status_code == 409


def test_someone_else_s_booking_cannot_be_cancelled(api, token, camera, make_user, make_token, session):
    made = book(api, token, {"resource_id": camera.id}).json
    response = api.post(f"/api/v1/bookings/{made['id']}/cancel", token=make_token(make_user()))
    assert response.status_code == 403
    session.expire_all()
    assert session.get(Booking, made["id"]).status is BookingStatus.APPROVED


def test_my_bookings_lists_them_by_phase_with_links(api, token, camera, member, make_booking):
    make_booking(resource=camera, user=member, starts_at=NOW - timedelta(days=9), ends_at=NOW - timedelta(days=8))
    book(api, token, {"resource_id": camera.id})
    response = api.get("/api/v1/me/bookings?per_page=1", token=token)
    assert response.status_code == 200
    page = response.json
    assert page["total"] == 2
    assert [b["phase"] for b in page["items"]] == ["upcoming"]
    assert page["next"].endswith("per_page=1&page=2")
    second = api.get(page["next"], token=token).json
    assert [b["phase"] for b in second["items"]] == ["past"]
    assert second["next"] is None
    assert api.get("/api/v1/me/bookings?phase=past", token=token).json["total"] == 1
    assert response.headers["Cache-Control"] == "no-store"


@pytest.fixture
def live_kit(make_user, make_category, make_resource, session):
    micro = make_category(name="Micro", needs_approval=False)
    camera = make_resource(name="Caméra Sony", category=make_category(name="Caméra", needs_approval=False))
    for place in ("31", "82"):
        make_resource(name=f"Micro {place}", category=micro, departement_code=place)
    with unit_of_work(session):
        return kits.save(
            session,
            ctx(make_user(roles={"admin"})),
            kit=None,
            name="Kit live",
            description="",
            departement_code=None,
            lines=[LineSpec(resource_id=camera.id), LineSpec(category_id=micro.id, quantity=2)],
        )


def test_a_kit_is_booked_as_a_whole_and_cancelled_as_a_whole(api, token, live_kit, session):
    response = book(api, token, {"kit_id": live_kit.id})
    assert response.status_code == 201
    made = response.json
    assert made["kit"] == {"id": live_kit.id, "name": "Kit live"}
    assert sorted(b["resource"]["name"] for b in made["bookings"]) == ["Caméra Sony", "Micro 31", "Micro 82"]
    assert count(session, KitBooking) == 1
    cancelled = api.post(f"/api/v1/kit-bookings/{made['id']}/cancel", token=token, json={})
    assert cancelled.status_code == 200
    assert {b["status"] for b in cancelled.json["bookings"]} == {"cancelled"}


def test_a_kit_that_cannot_be_filled_books_nothing_and_names_when_it_can(api, token, live_kit, make_user, make_token):
    assert book(api, make_token(make_user()), {"kit_id": live_kit.id}).status_code == 201
    response = book(api, token, {"kit_id": live_kit.id})
    assert response.status_code == 409
    assert response.json["error"]["next_free_slot"] is not None


def test_the_kits_list_counts_whole_kits_free_over_a_period(api, token, live_kit):
    query = f"/api/v1/kits?start={iso(START)}&end={iso(END)}".replace("+", "%2B")
    assert api.get(query).json["items"][0]["free_count"] == 1
    book(api, token, {"kit_id": live_kit.id})
    assert api.get(query).json["items"][0]["free_count"] == 0
    assert api.get("/api/v1/kits").json["items"][0]["free_count"] is None


def test_signing_up_registers_then_waitlists_with_a_position(api, make_user, make_token, make_training, session):
    session_ = make_training(capacity=1)
    first, second, third = (make_token(make_user()) for _ in range(3))
    registered = api.post(f"/api/v1/trainings/{session_.id}/enrolments", token=first)
    assert registered.status_code == 201
    assert registered.json == {
        "training_id": session_.id,
        "status": "registered",
        "status_label": "Inscrit·e",
        "position": None,
    }
    assert api.post(f"/api/v1/trainings/{session_.id}/enrolments", token=second).json["position"] == 1
    waiting = api.post(f"/api/v1/trainings/{session_.id}/enrolments", token=third)
    assert waiting.status_code == 201
    assert waiting.json["status"] == "waitlisted" and waiting.json["position"] == 2
    assert api.post(f"/api/v1/trainings/{session_.id}/enrolments", token=third).status_code == 409


def test_leaving_a_session_hands_the_seat_to_the_first_waiting(api, make_user, make_token, make_training, session):
    session_ = make_training(capacity=1)
    leaving, waiting_user = make_user(), make_user()
    leaving_token, waiting_token = make_token(leaving), make_token(waiting_user)
    api.post(f"/api/v1/trainings/{session_.id}/enrolments", token=leaving_token)
    api.post(f"/api/v1/trainings/{session_.id}/enrolments", token=waiting_token)
    response = api.delete(f"/api/v1/trainings/{session_.id}/enrolments/me", token=leaving_token)
    assert response.status_code == 200
    assert response.json["status"] == "cancelled"
    session.expire_all()
    promoted = session.scalar(select(Enrolment).where(Enrolment.user_id == waiting_user.id))
    assert promoted.status == "registered"
    assert api.delete(f"/api/v1/trainings/{session_.id}/enrolments/me", token=leaving_token).status_code == 409


def test_leaving_a_session_one_never_joined_is_404(api, token, make_training):
    response = api.delete(f"/api/v1/trainings/{make_training().id}/enrolments/me", token=token)
    assert response.status_code == 404


@pytest.fixture
def host(make_user):
    return make_user(display_name="Martin Hôte", hosts=("31",))


def test_a_host_sees_requests_at_the_desk_with_names_and_approves_them(
    api, token, host, make_token, make_category, make_resource, session
):
    stand = make_resource(name="Stand PLV", category=make_category(name="PLV", needs_approval=True))
    tomorrow = NOW + timedelta(hours=20)  # a pickup is recorded from the day before
    made = book(api, token, {"resource_id": stand.id}, start=tomorrow, end=tomorrow + timedelta(hours=8)).json
    assert made["status"] == "requested"
    host_token = make_token(host)
    desk = api.get("/api/v1/desk", token=host_token)
    assert desk.status_code == 200
    request = desk.json["requests"][0]
    assert request["id"] == made["id"]
    assert request["member"]["display_name"] == "Léa Membre"
    approved = api.post(f"/api/v1/desk/bookings/{made['id']}/approve", token=host_token)
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    handed = api.post(
        f"/api/v1/desk/bookings/{made['id']}/pickup", token=host_token, json={"condition": "ok", "note": "RAS"}
    )
    assert handed.status_code == 200 and handed.json["status"] == "picked_up"


def test_a_member_has_no_desk(api, token, camera):
    made = book(api, token, {"resource_id": camera.id}).json
    assert api.get("/api/v1/desk", token=token).status_code == 403
    response = api.post(f"/api/v1/desk/bookings/{made['id']}/reject", token=token, json={"reason": "non"})
    assert response.status_code == 403


def test_a_host_of_another_departement_cannot_act_on_a_booking(api, token, camera, make_user, make_token, session):
    made = book(api, token, {"resource_id": camera.id}).json
    elsewhere = make_token(make_user(hosts=("34",)))
    assert api.get("/api/v1/desk?departement=31", token=elsewhere).status_code == 403
    response = api.post(f"/api/v1/desk/bookings/{made['id']}/no-show", token=elsewhere)
    assert response.status_code == 403
    session.expire_all()
    assert session.get(Booking, made["id"]).status is BookingStatus.APPROVED


def test_a_host_rejects_with_a_reason_or_not_at_all(api, token, host, make_token, make_category, make_resource):
    stand = make_resource(category=make_category(needs_approval=True))
    made = book(api, token, {"resource_id": stand.id}).json
    host_token = make_token(host)
    missing = api.post(f"/api/v1/desk/bookings/{made['id']}/reject", token=host_token, json={})
    assert missing.status_code == 422 and "reason" in missing.json["error"]["fields"]
    done = api.post(f"/api/v1/desk/bookings/{made['id']}/reject", token=host_token, json={"reason": "En réparation"})
    assert done.json["status"] == "rejected"


def test_fractions_of_a_second_finer_than_microseconds_are_cut_not_refused(api, token, camera):
    response = api.post(
        "/api/v1/bookings",
        token=token,
        json={"resource_id": camera.id, "start": "2027-01-15T10:00:00.123456789+01:00", "end": "2027-01-15T12:00:00Z"},
    )
    assert response.status_code == 201
    assert response.json["start"] == "2027-01-15T09:00:00.123456Z"
