"""The OpenAPI document: generated from the code, valid OpenAPI 3.1, covering every API route; and
the page that reads it to people."""

from __future__ import annotations

import re

import schemathesis

from app.web.api.routing import OPERATIONS


def test_the_document_is_valid_openapi_3_1(api):
    response = api.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json
    assert document["openapi"] == "3.1.0"
    schemathesis.openapi.from_dict(document).validate()  # against the OpenAPI 3.1 meta-schema


def test_every_api_route_is_in_the_document(app, api):
    paths = api.get("/api/v1/openapi.json").json["paths"]
    documented = {(method.upper(), path) for path, item in paths.items() for method in item}
    routes = {
        (method, re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and rule.endpoint in OPERATIONS
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == documented
    undeclared = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.endpoint not in OPERATIONS
    }
    assert undeclared == {"/api/v1/openapi.json"}


def test_the_issue_s_endpoints_are_all_there(api):
    paths = api.get("/api/v1/openapi.json").json["paths"]
    for method, path in [
        ("get", "/api/v1/resources"),
        ("get", "/api/v1/resources/{resource_id}"),
        ("get", "/api/v1/resources/{resource_id}/availability"),
        ("get", "/api/v1/categories"),
        ("get", "/api/v1/kits"),
        ("get", "/api/v1/trainings"),
        ("get", "/api/v1/agenda"),
        ("get", "/api/v1/me/bookings"),
        ("post", "/api/v1/bookings"),
        ("post", "/api/v1/bookings/{booking_id}/cancel"),
        ("post", "/api/v1/trainings/{training_id}/enrolments"),
        ("delete", "/api/v1/trainings/{training_id}/enrolments/me"),
        ("get", "/api/v1/desk"),
        ("post", "/api/v1/desk/bookings/{booking_id}/approve"),
    ]:
        assert method in paths[path], (method, path)
    booking = paths["/api/v1/bookings"]["post"]
    assert booking["security"] == [{"token": []}]
    assert {"201", "409", "422", "401"} <= set(booking["responses"])
    assert paths["/api/v1/resources"]["get"]["security"] == []


def test_the_document_follows_the_caller_s_language(api):
    english = api.get("/api/v1/openapi.json", headers={"Accept-Language": "en"}).json
    assert english["openapi"] == "3.1.0"
    assert api.get("/api/v1/openapi.json").headers["ETag"]


def test_the_docs_page_lists_operations_and_schemas_from_our_own_files(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "/api/v1/bookings/{booking_id}/cancel" in page
    assert 'id="schema-Booking"' in page
    assert "<script>" not in page and "cdn" not in page.lower()
    assert not re.search(r"<script(?![^>]*\bsrc=\"/(?:bootstrap/)?static/)", page)  # our own files only
