"""Ids and dates beyond what the app can hold are a 404 or a message, never a 500."""

import pytest
from sqlalchemy import select

from app.models import Booking


@pytest.mark.parametrize(
    "url",
    [
        "/resources/2147483648",
        "/resources/99999999999999999999",
        "/bookings/2147483648",
        "/series/2147483648",
        "/trainings/9223372036854775808",
        "/agenda/2147483648",
    ],
)
def test_an_id_beyond_the_id_columns_is_not_found(client, auth, make_user, url):
    auth.login(make_user())
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "free_from=0001-01-01T00:00&free_until=0001-01-01T01:00",
        "free_from=9999-12-31T10:00&free_until=9999-12-31T12:00",
    ],
)
def test_dates_at_the_ends_of_the_calendar_in_the_catalogue_get_a_message(client, query):
    answer = client.get(f"/resources?{query}")
    assert answer.status_code == 200
    assert "Choisissez une date entre 1970 et 2100" in answer.get_data(as_text=True)


def test_a_booking_form_dated_year_one_says_so_and_stores_nothing(client, auth, session, make_user, make_resource):
    camera = make_resource()
    auth.login(make_user())
    data = {"starts_at": "0001-01-01T10:00", "ends_at": "0001-01-01T12:00", "purpose": ""}
    answer = client.post(f"/bookings/new?resource={camera.id}", data=data)
    assert answer.status_code == 200
    assert "Choisissez une date entre 1970 et 2100" in answer.get_data(as_text=True)
    assert session.scalars(select(Booking)).all() == []


def test_an_unknown_print_format_of_the_agenda_is_the_ordinary_page(client):
    assert client.get("/agenda?format=x").status_code == 200
    assert client.get("/agenda/print?format=x").status_code == 200
