"""Picking a day on a calendar: each free day from today on is a link that fills the booking form.

These are the pages without JavaScript; the range picked by a first and a last day is tried in
tests/browser/test_journeys.py.
"""

import re
from datetime import UTC, datetime

import pytest

from tests.factories import NOW


@pytest.fixture(autouse=True)
def monday_morning(clock):
    return clock(NOW)  # Monday 11 January 2027


def pick_links(page: str) -> dict[str, str]:
    """Day (ISO) → the booking form's address its link opens."""
    return {
        day: href.replace("&amp;", "&")
        for href, day in re.findall(
            r'<a class="pick-day" draggable="false" href="([^"]+)" data-pick-day="([^"]+)"', page
        )
    }


def test_free_days_of_a_resource_month_link_to_the_form_for_that_day(client, make_resource, make_user, make_booking):
    camera = make_resource()
    make_booking(
        resource=camera,
        user=make_user(),
        starts_at=datetime(2027, 1, 20, 9, tzinfo=UTC),
        ends_at=datetime(2027, 1, 20, 11, tzinfo=UTC),
    )
    links = pick_links(client.get(f"/resources/{camera.id}?month=2027-01").get_data(as_text=True))

    assert links["2027-01-13"] == f"/bookings/new?resource={camera.id}&start=2027-01-13T09:00&end=2027-01-13T17:00"
    assert "2027-01-20" not in links  # busy that day
    assert "2027-01-08" not in links  # before today
    assert "2027-01-11" in links and "2027-01-31" in links


def test_the_form_opened_from_a_picked_day_is_filled_with_it(client, auth, make_resource, make_user):
    camera = make_resource()
    auth.login(make_user())
    page = client.get(f"/bookings/new?resource={camera.id}&start=2027-01-13T09:00&end=2027-01-15T17:00")
    html = page.get_data(as_text=True)
    assert 'value="2027-01-13T09:00"' in html and 'value="2027-01-15T17:00"' in html
    assert "2027-01-14" in pick_links(html)  # the form's own calendar picks too


def test_the_departement_week_links_each_free_resource_day_to_the_form(client, make_resource, make_user, make_booking):
    camera = make_resource(name="Caméra", departement_code="31")
    make_booking(
        resource=camera,
        user=make_user(),
        starts_at=datetime(2027, 1, 12, 9, tzinfo=UTC),
        ends_at=datetime(2027, 1, 12, 11, tzinfo=UTC),
    )
    page = client.get("/departements/31/week?start=2027-01-11").get_data(as_text=True)
    links = pick_links(page)

    assert links["2027-01-13"] == f"/bookings/new?resource={camera.id}&start=2027-01-13T09:00&end=2027-01-13T17:00"
    assert "2027-01-12" not in links
    assert "<caption" in page and 'scope="row"' in page


def test_a_past_month_offers_no_day_to_pick(client, make_resource):
    camera = make_resource()
    assert pick_links(client.get(f"/resources/{camera.id}?month=2026-12").get_data(as_text=True)) == {}


def test_the_departement_week_is_linked_from_the_catalogue_and_a_resource_page(client, make_resource):
    camera = make_resource(departement_code="34")
    assert "/departements/34/week" in client.get("/resources?departement=34").get_data(as_text=True)
    assert "/departements/34/week" in client.get(f"/resources/{camera.id}").get_data(as_text=True)
    assert "/week" not in client.get("/resources?departement=zz").get_data(as_text=True)
