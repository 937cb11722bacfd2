"""The loan walked through on a 375 px phone in Chromium: the host hands over with the contents
ticked, the borrower confirms on their own phone, the item comes back damaged and goes out of
service, the holder of a later booking takes another unit in one tap, and the département's
label sheet prints to PDF."""

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.models import Booking, OutboxMessage, OutOfService
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

PARIS = ZoneInfo("Europe/Paris")
PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "locale": "fr-FR"}
CONTENTS = "Boîtier\n2 batteries\nChargeur\nCarte SD 64 Go\nSacoche"


def paris(day: int, hour: int) -> datetime:
    return datetime(2027, 1, day, hour, tzinfo=PARIS).astimezone(UTC)


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{page.url} is {width} px wide on a 375 px phone"


@pytest.fixture
def scene(clock, session, make_user, make_category, make_resource, make_pickup_point, make_booking):
    clock(paris(11, 10))  # Monday 11 January 2027, 10:00 in Paris (NOW)
    make_pickup_point(
        departement_code="34",
        name="Maison de la science",
        address="2 place de la Comédie\n34000 Montpellier",
        hours=[(d, "09:00", "12:30") for d in range(5)] + [(d, "14:00", "18:00") for d in range(5)],
    )
    cameras = make_category(name="Caméra", name_plural="Caméras", needs_approval=True)
    broken = make_resource(name="Caméra Sony FX30", departement_code="34", category=cameras, contents=CONTENTS)
    spare = make_resource(name="Caméra Canon R10", departement_code="30", category=cameras, contents=CONTENTS)
    make_user(email="hote@example.org", display_name="Inès Vidal", hosts=("34",), phone="04 67 00 00 00")
    lea = make_user(email="lea@example.org", display_name="Léa Fabre", phone="06 12 34 56 78")
    hugo = make_user(email="hugo@example.org", display_name="Hugo Marty", departement_code="34")
    now_loan = make_booking(resource=broken, user=lea, starts_at=paris(11, 11), ends_at=paris(12, 17))
    later = make_booking(resource=broken, user=hugo, starts_at=paris(20, 10), ends_at=paris(21, 17))
    return {"broken": broken, "spare": spare, "loan": now_loan, "later": later}


def test_a_loan_with_a_damaged_return_out_of_service_and_another_unit_offered(
    live_server, browser, screenshot, clock, session, scene
):
    host = browser.new_page(**PHONE)
    host.on("dialog", lambda dialog: dialog.accept())  # the desk asks before it acts
    log_in(host, live_server, "hote@example.org")
    host.goto(f"{live_server}/desk")
    assert "Léa Fabre" in host.content()
    no_sideways_scroll(host)
    pickup = host.locator(f"form[action$='/desk/bookings/{scene['loan'].id}/pickup']")
    for box in pickup.locator("input[name=checked]").all():
        box.check()
    screenshot(host, "desk-handover-phone", full_page=True)
    pickup.locator("button[type=submit]").click()
    host.wait_for_selector("text=Remis à Léa Fabre")
    no_sideways_scroll(host)

    lea = browser.new_page(**PHONE)
    log_in(lea, live_server, "lea@example.org")
    lea.goto(f"{live_server}/loans/{scene['loan'].id}")
    lea.click("button.confirm-receipt")
    lea.wait_for_selector("text=a confirmé avoir reçu")
    no_sideways_scroll(lea)
    lea.close()

    clock(paris(12, 16))  # the next day, back before closing time
    host.goto(f"{live_server}/desk")
    back = host.locator(f"form[action$='/desk/bookings/{scene['loan'].id}/return']")
    for box in back.locator("input[name=checked]").all()[:-1]:  # the bag does not come back
        box.check()
    back.locator("input[name=condition][value=damaged]").check()
    back.locator("textarea[name=note]").fill("Écran fêlé, sacoche oubliée")
    back.locator("button[type=submit]").click()
    host.wait_for_selector("text=Mettre hors service")
    assert "Écran fêlé" in host.content()
    no_sideways_scroll(host)
    host.click("button:has-text('Mettre hors service')")
    host.wait_for_selector("text=Hors service")
    no_sideways_scroll(host)

    session.rollback()  # the server wrote after the test's read transaction began
    period = session.scalar(select(OutOfService))
    assert period.resource_id == scene["broken"].id and "Écran fêlé" in period.reason
    offer = session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == "hugo@example.org"))
    link = re.search(r"https?://\S+/items/bookings/\d+/alternatives", offer.body_text).group(0)

    hugo = browser.new_page(**PHONE)
    asked = []
    hugo.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    log_in(hugo, live_server, "hugo@example.org")
    hugo.goto(live_server + link[link.index("/items/") :])
    assert "Caméra Canon R10" in hugo.content() and "Gard" in hugo.content()
    no_sideways_scroll(hugo)
    screenshot(hugo, "out-of-service-offer", full_page=True)
    hugo.click("button:has-text('Prendre celui-ci')")
    hugo.wait_for_selector("text=C'est noté : vous prendrez « Caméra Canon R10 »")
    assert asked and "30 – Gard" in asked[0]  # taking a unit kept elsewhere asks first
    hugo.close()
    session.rollback()
    assert session.get(Booking, scene["later"].id).resource_id == scene["spare"].id

    desk = browser.new_page(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    log_in(desk, live_server, "hote@example.org")
    desk.goto(f"{live_server}/loans/{scene['loan'].id}/form")
    screenshot(desk, "loan-form", full_page=True)
    desk.goto(f"{live_server}/items/labels/34")
    assert "Caméra Sony FX30" in desk.content() and desk.locator("svg").count() >= 1
    screenshot(desk, "labels", full_page=True)
    pdf = desk.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF") and re.search(rb"/MediaBox\s*\[\s*0\s+0\s+595", pdf)
    desk.close()
    host.close()
