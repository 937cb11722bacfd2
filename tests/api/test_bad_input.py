"""Bad input through the API: always a 4xx in the one error shape, and nothing changed."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask_babel import refresh
from sqlalchemy import func, select

from app.models import Booking, Enrolment
from tests.api.conftest import NOW, iso

START = NOW + timedelta(days=2)
END = NOW + timedelta(days=3)


@pytest.fixture
def member(make_user):
    return make_user()


@pytest.fixture
def token(member, make_token):
    return make_token(member)


@pytest.fixture
def camera(make_resource):
    return make_resource()


def nothing_booked(session) -> bool:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Booking)) == 0


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    error = response.json["error"]
    assert set(error) == {"code", "status", "message", "fields", "next_free_slot"}
    assert error["status"] == status and error["message"]
    if code is not None:
        assert error["code"] == code
    return error


def post_raw(api, token, data, content_type="application/json"):
    return api.post("/api/v1/bookings", token=token, data=data, content_type=content_type)


def test_malformed_json_is_400(api, token, session):
    assert_error(post_raw(api, token, '{"resource_id": 1,'), 400, "malformed_json")
    assert_error(post_raw(api, token, b"\xff\xfe not utf-8"), 400, "malformed_json")
    assert_error(post_raw(api, token, '{"resource_id": NaN}'), 400, "malformed_json")
    assert nothing_booked(session)


def test_json_nested_past_reason_is_400_not_a_crash(api, token, session):
    assert_error(post_raw(api, token, "[" * 20000 + "]" * 20000), 400, "malformed_json")
    assert nothing_booked(session)


def test_a_body_that_is_not_json_is_415(api, token, session):
    assert_error(post_raw(api, token, "resource_id=1", "application/x-www-form-urlencoded"), 415)
    assert nothing_booked(session)


def test_a_huge_body_is_413(api, token, session):
    body = json.dumps({"purpose": "x" * (200 * 1024)})
    assert_error(post_raw(api, token, body), 413, "too_large")
    assert nothing_booked(session)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"resource_id": "1", "start": "2027-01-13T09:00:00Z", "end": "2027-01-14T09:00:00Z"}, "resource_id"),
        ({"resource_id": True, "start": "2027-01-13T09:00:00Z", "end": "2027-01-14T09:00:00Z"}, "resource_id"),
        ({"resource_id": 1.5, "start": "2027-01-13T09:00:00Z", "end": "2027-01-14T09:00:00Z"}, "resource_id"),
        ({"resource_id": 1, "start": 20270113, "end": "2027-01-14T09:00:00Z"}, "start"),
        ({"resource_id": 1, "end": "2027-01-14T09:00:00Z"}, "start"),
        ({"resource_id": 1, "start": "2027-01-13T09:00:00Z", "end": "2027-01-14T09:00:00Z", "extra": 1}, "extra"),
        ({"start": "2027-01-13T09:00:00Z", "end": "2027-01-14T09:00:00Z"}, "resource_id"),
        (
            {"resource_id": 1, "kit_id": 1, "start": "2027-01-13T09:00:00Z", "end": "2027-01-14T09:00:00Z"},
            "resource_id",
        ),
        ({"resource_id": 1, "start": "2027-01-13T09:00:00", "end": "2027-01-14T09:00:00Z"}, "start"),
        ({"resource_id": 1, "start": "2027-01-13", "end": "2027-01-14T09:00:00Z"}, "start"),
        ({"resource_id": 1, "start": "0001-01-01T00:00:00Z", "end": "2027-01-14T09:00:00Z"}, "start"),
        ({"resource_id": 1, "start": "2027-01-13T09:00:00Z", "end": "9999-12-31T23:59:59Z"}, "end"),
        ({"resource_id": 1, "start": "2027-01-13T09:00:00Z", "end": "2027-01-14T09:00:00Z", "purpose": 5}, "purpose"),
        ({"resource_id": 2**31, "start": "2027-01-13T09:00:00Z", "end": "2027-01-14T09:00:00Z"}, "resource_id"),
        ({"resource_id": 0, "start": "2027-01-13T09:00:00Z", "end": "2027-01-14T09:00:00Z"}, "resource_id"),
        (
            {"resource_id": 1, "start": "2027-01-13T09:00:00Z", "end": "2027-01-14T09:00:00Z", "purpose": "a\x00b"},
            "purpose",
        ),
        (
            {"resource_id": 1, "start": "2027-01-13T09:00:00Z", "end": "2027-01-14T09:00:00Z", "purpose": "\ud800"},
            "purpose",
        ),
    ],
)
def test_wrong_missing_or_extra_fields_are_422_field_by_field(api, token, camera, session, body, field):
    error = assert_error(api.post("/api/v1/bookings", token=token, json=body), 422, "invalid")
    assert field in error["fields"]
    assert nothing_booked(session)


@pytest.mark.parametrize("body", ["[]", "null", '"text"', "3"])
def test_a_body_that_is_not_an_object_is_422(api, token, session, body):
    error = assert_error(post_raw(api, token, body), 422, "invalid")
    assert "body" in error["fields"]
    assert nothing_booked(session)


def test_a_start_already_past_is_a_rule_violation(api, token, camera, session):
    body = {"resource_id": camera.id, "start": iso(NOW - timedelta(days=1)), "end": iso(END)}
    assert_error(api.post("/api/v1/bookings", token=token, json=body), 422, "rule_violation")
    assert nothing_booked(session)


def test_an_id_that_does_not_exist_is_404(api, token, session):
    body = {"resource_id": 999999, "start": iso(START), "end": iso(END)}
    assert_error(api.post("/api/v1/bookings", token=token, json=body), 404, "not_found")
    assert_error(api.post("/api/v1/bookings", token=token, json={**body, "resource_id": None, "kit_id": 999}), 422)
    assert_error(api.post("/api/v1/bookings/999999/cancel", token=token), 404)
    assert_error(api.post("/api/v1/trainings/999999/enrolments", token=token), 404)
    assert nothing_booked(session)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/resources/2147483648",
        "/api/v1/resources/99999999999999999999/availability",
        "/api/v1/bookings/2147483648/cancel",
        "/api/v1/trainings/2147483648/enrolments",
        "/api/v1/desk/bookings/2147483648/approve",
    ],
)
def test_ids_of_2_31_or_more_in_the_address_are_404(api, token, path):
    method = api.get if path.startswith("/api/v1/resources") else api.post
    assert_error(method(path, token=token), 404, "not_found")


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "page=abc",
        "page=10001",
        "per_page=101",
        "category=-1",
        "category=2147483648",
        "departement=9",
        "departement=31%0A",
        "free_from=2027-01-13T09:00:00Z",
        "free_from=0001-01-01T00:00:00Z&free_until=2027-01-13T09:00:00Z",
        "free_from=2027-01-13T09:00:00Z&free_until=9999-12-31T00:00:00Z",
        "q=" + "x" * 81,
    ],
)
def test_bad_query_values_are_422(api, query):
    assert_error(api.get(f"/api/v1/resources?{query}"), 422, "invalid")


def test_a_nul_in_the_address_is_a_400_in_the_api_s_shape(api):
    assert_error(api.get("/api/v1/resources?q=%00"), 400)


def test_an_unknown_address_and_a_wrong_method_answer_in_the_api_s_shape(api):
    assert_error(api.get("/api/v1/nothing-here"), 404, "not_found")
    wrong = api.call("PUT", "/api/v1/resources")
    assert_error(wrong, 405, "method_not_allowed")
    assert "GET" in wrong.headers["Allow"]


def test_errors_speak_the_caller_s_language(api, token):
    response = api.get("/api/v1/nothing-here", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert response.json["error"]["message"] == "What you are looking for does not exist (any more)."
    refresh()  # the test's requests share its app context, where Flask-Babel keeps the language
    french = api.get("/api/v1/nothing-here", headers={"Accept-Language": "fr"})
    assert french.json["error"]["message"] == "Ce que vous cherchez n'existe pas ou plus."
    body = {"resource_id": 999999, "start": iso(START), "end": iso(END)}
    refresh()
    english = api.post("/api/v1/bookings", token=token, json=body, headers={"Accept-Language": "en"})
    assert english.json["error"]["message"] == "This resource does not exist."


def test_someone_else_s_enrolment_cannot_be_touched(api, token, make_user, make_token, make_training, session):
    training = make_training()
    other = make_token(make_user())
    api.post(f"/api/v1/trainings/{training.id}/enrolments", token=other)
    assert_error(api.delete(f"/api/v1/trainings/{training.id}/enrolments/me", token=token), 404)
    session.expire_all()
    assert session.scalar(select(Enrolment.status)) == "registered"


def test_too_many_calls_get_429_with_retry_after(make_app, make_user, make_token):
    secret = make_token(make_user())
    client = make_app(API_RATE_LIMIT="2 per minute").test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    for _ in range(2):
        assert client.get("/api/v1/me/bookings", headers=headers).status_code == 200
    refused = client.get("/api/v1/me/bookings", headers=headers)
    assert_error(refused, 429, "rate_limited")
    assert int(refused.headers["Retry-After"]) >= 1
    assert client.get("/api/v1/resources").status_code == 200  # another key: the address, without a token


def test_an_unexpected_error_is_a_500_in_the_api_s_shape_without_a_trace(api, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret detail")

    monkeypatch.setattr("app.services.catalogue.search_page", broken)
    response = api.get("/api/v1/resources")
    assert_error(response, 500, "server_error")
    assert "secret detail" not in response.get_data(as_text=True)


def test_api_answers_set_no_cookie(api, make_resource):
    make_resource()
    assert "Set-Cookie" not in api.get("/api/v1/resources").headers
