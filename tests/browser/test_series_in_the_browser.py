"""The series preview and the series page on a 375 px phone, in Chromium: no sideways scroll."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.models import Booking
from tests.browser.conftest import log_in
from tests.factories import NOW

pytestmark = pytest.mark.browser

# The browser fixtures live beside the browser tests; this page's test lives with the series ones.

PARIS = ZoneInfo("Europe/Paris")
PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "locale": "fr-FR"}


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{page.url} is {width} px wide on a 375 px phone"


def test_previewing_booking_and_cancelling_a_series_on_a_phone(
    live_server, browser, screenshot, clock, session, make_user, make_category, make_resource, make_booking
):
    clock(NOW)
    camera = make_resource(
        name="Caméra Sony FX30 avec son micro-canon et sa sacoche",
        category=make_category(name="Caméra", needs_approval=False),
        departement_code="31",
    )
    make_user(email="lea@example.org", display_name="Léa Fabre")
    taken = datetime(2027, 3, 31, 9, tzinfo=PARIS).astimezone(UTC)
    make_booking(resource=camera, user=make_user(), starts_at=taken, ends_at=taken.replace(hour=13))

    page = browser.new_page(**PHONE)
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, live_server, "lea@example.org")
    page.goto(f"{live_server}/series/new?resource={camera.id}")
    page.fill("input[name=starts_at]", "2027-03-17T10:00")
    page.fill("input[name=ends_at]", "2027-03-17T12:00")
    page.select_option("select[name=recurrence]", "weekly")
    page.fill("input[name=count]", "4")
    page.click("button[name=preview]")
    page.wait_for_selector("#preview-title")
    text = page.inner_text("main") if page.query_selector("main") else page.inner_text("body")
    assert text.count("Libre") == 3 and "Déjà pris" in text and "Réserver ce créneau seul" in text
    no_sideways_scroll(page)
    screenshot(page, "series-preview", full_page=True)

    page.click("button[name=book]")
    page.wait_for_url(f"{live_server}/series/*")
    assert "3 dates réservées" in page.inner_text("body")
    no_sideways_scroll(page)
    screenshot(page, "series-detail", full_page=True)
    page.click("form:has(input[name=scope][value=one]) button >> nth=0")
    page.wait_for_load_state()
    assert "1 réservation annulée." in page.inner_text("body")
    no_sideways_scroll(page)
    session.rollback()  # end the test's read snapshot: the server wrote since
    kept = session.scalars(select(Booking).where(Booking.series_id.is_not(None))).all()
    assert sorted(str(b.status) for b in kept) == ["approved", "approved", "cancelled"]
