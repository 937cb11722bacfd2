"""The issue's journey in Chromium: a member books a kit for 4 Wednesdays, one clashes, books
the 3 free ones; the host approves from the link in the request email, without logging in."""

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.db import unit_of_work
from app.models import Booking, BookingStatus, OutboxMessage
from app.services import kits
from app.services.kits import LineSpec
from tests.browser.conftest import log_in
from tests.factories import NOW, ctx

pytestmark = pytest.mark.browser

PARIS = ZoneInfo("Europe/Paris")
PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "locale": "fr-FR"}


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{page.url} is {width} px wide on a 375 px phone"


def test_a_kit_for_four_wednesdays_one_clashing_then_the_host_approves_from_the_email(
    live_server, browser, screenshot, clock, session, make_user, make_category, make_resource, make_booking
):
    clock(NOW)
    camera, micro, light = (make_category(name=n, needs_approval=True) for n in ("Caméra", "Micro", "Lumière"))
    only_camera = make_resource(name="Caméra Sony FX30 et sa sacoche", category=camera, departement_code="31")
    make_resource(name="Micro Rode NTG", category=micro, departement_code="31")
    make_resource(name="Lumière LED Aputure", category=light, departement_code="31")
    host = make_user(email="hote@example.org", display_name="Hôte Toulouse", hosts=("31",))
    make_user(email="lea@example.org", display_name="Léa Fabre")
    with unit_of_work(session):
        kit = kits.save(
            session,
            ctx(make_user(roles={"admin"})),
            kit=None,
            name="Kit live du mercredi",
            description="",
            departement_code=None,
            lines=[LineSpec(category_id=c.id) for c in (camera, micro, light)],
        )
    taken = datetime(2027, 3, 31, 9, tzinfo=PARIS).astimezone(UTC)
    make_booking(resource=only_camera, user=make_user(), starts_at=taken, ends_at=taken.replace(hour=11))

    page = browser.new_page(**PHONE)
    log_in(page, live_server, "lea@example.org")
    page.goto(f"{live_server}/series/new?kit={kit.slug}")
    page.fill("input[name=starts_at]", "2027-03-17T10:00")
    page.fill("input[name=ends_at]", "2027-03-17T12:00")
    page.select_option("select[name=recurrence]", "weekly")
    page.fill("input[name=count]", "4")
    page.click("button[name=preview]")
    page.wait_for_selector("#preview-title")
    preview = page.inner_text("#preview")
    assert preview.count("Libre") == 3 and preview.count("Déjà pris") == 1
    assert "Le kit entier est libre à partir du" in preview and "Réserver le kit seul à ce créneau" in preview
    no_sideways_scroll(page)
    screenshot(page, "kit-series-preview", full_page=True)

    page.click("button[name=book]:has-text('Réserver les 3 créneaux libres')")
    page.wait_for_url(re.compile(r"/series/\d+(#.*)?$"))
    assert "Demande envoyée pour le kit, 3 dates" in page.inner_text("body")
    no_sideways_scroll(page)

    session.rollback()  # end the test's read snapshot: the server wrote since
    items = session.scalars(select(Booking).where(Booking.series_id.is_not(None)).order_by(Booking.id)).all()
    assert len(items) == 9 and {b.status for b in items} == {BookingStatus.REQUESTED}
    mails = session.scalars(
        select(OutboxMessage).where(OutboxMessage.to_address == host.email).order_by(OutboxMessage.id)
    ).all()
    assert len(mails) == 9
    first = re.search(r"Valider\s?: (\S+)", mails[0].body_text)  # French: a non-breaking space before the colon
    assert first is not None
    link = urlsplit(first.group(1))

    answering = browser.new_page(**PHONE)  # the host's phone: nobody is logged in there
    answering.goto(f"{live_server}{link.path}")
    assert "Valider la demande de Léa Fabre" in answering.inner_text("h1")
    no_sideways_scroll(answering)
    with answering.expect_navigation():
        answering.click(f"form[action='{link.path}'] [type=submit]")
    session.rollback()
    approved = session.scalars(select(Booking).where(Booking.status == BookingStatus.APPROVED)).all()
    assert [b.id for b in approved if b.series_id is not None] == [items[0].id]
