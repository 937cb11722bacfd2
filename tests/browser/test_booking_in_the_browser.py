"""A member books through the real pages in Chromium; the host approves from a phone-sized screen."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.i18n import utcnow
from app.models import Booking
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_a_member_books_and_the_host_approves_on_a_phone(
    live_server, browser, screenshot, session, make_user, make_category, make_resource, make_booking
):
    cameras = make_category(name="Caméra", name_plural="Caméras", buffer_hours=12, min_lead_hours=0)
    camera = make_resource(
        name="Caméra Sony FX30", category=cameras, departement_code="11", description="Avec deux batteries."
    )
    other = make_user(display_name="Hugo Marty")
    soon = utcnow() + timedelta(days=1)
    make_booking(resource=camera, user=other, starts_at=soon, ends_at=soon + timedelta(days=1))
    make_user(email="hote@example.org", display_name="Martin Aubert", hosts=("11",))
    make_user(email="lea@example.org", display_name="Léa Fabre")

    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    log_in(page, live_server, "lea@example.org")
    page.goto(f"{live_server}/resources/{camera.id}")
    assert "Règles de réservation" in page.content()
    screenshot(page, "resource-calendar", full_page=True)
    page.click("text=Réserver")

    start = (utcnow() + timedelta(days=5)).astimezone(ZoneInfo("Europe/Paris")).replace(hour=9, minute=0)
    page.fill("input[name=starts_at]", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=ends_at]", (start + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("textarea[name=purpose]", "Fête de la science à Carcassonne")
    screenshot(page, "booking-form", full_page=True)
    page.click("input[type=submit][value='Réserver'], button:has-text('Réserver') >> nth=-1")
    page.wait_for_selector("text=Demande envoyée")
    assert "En attente" in page.content()
    page.close()

    phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="fr-FR", is_mobile=True)
    log_in(phone, live_server, "hote@example.org")
    phone.goto(f"{live_server}/desk")
    assert "Fête de la science à Carcassonne" in phone.content()
    screenshot(phone, "desk-phone", full_page=True)
    phone.click("button:has-text('Valider') >> nth=0")
    phone.wait_for_selector("text=Demande validée.")
    phone.close()

    session.rollback()  # end the test's read transaction: the server wrote after it began
    made = session.scalar(select(Booking).where(Booking.purpose == "Fête de la science à Carcassonne"))
    assert made.status == "approved"
    assert made.starts_at.astimezone(ZoneInfo("Europe/Paris")).hour == 9
