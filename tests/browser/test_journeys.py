"""Journeys a person makes through the site, in Chromium, each on a desktop screen and on a 375 px phone.

Every page they load is checked by axe-core (see conftest: no serious or critical finding) and
must not scroll sideways on the phone. Time is the test clock's, never slept through.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.models import Booking, Enrolment, Organisation, User
from app.services import credentials
from tests.browser.conftest import assert_no_sideways_scroll, log_in
from tests.factories import NOW, PASSWORD

pytestmark = pytest.mark.browser

PARIS = ZoneInfo("Europe/Paris")
SCREENS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}, "locale": "fr-FR"},
    "phone": {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "locale": "fr-FR"},
}


@pytest.fixture(params=sorted(SCREENS))
def screen(request) -> str:
    return request.param


@pytest.fixture
def open_page(browser, screen):
    """A new page on this test's screen; on a phone every check also looks for sideways scrolling."""

    def make():
        page = browser.new_page(**SCREENS[screen])
        page.on("dialog", lambda dialog: dialog.accept())  # "Annuler votre inscription ?" and the like
        return page

    return make


def fits(page, screen: str) -> None:
    if screen == "phone":
        assert_no_sideways_scroll(page)


@pytest.fixture(autouse=True)
def monday_morning(clock):
    return clock(NOW)  # Monday 11 January 2027, 10:00 in Paris


def paris(day: int, hour: int, month: int = 1) -> datetime:
    return datetime(2027, month, day, hour, tzinfo=PARIS).astimezone(UTC)


def submit(page, label: str) -> None:
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name=label).first.click()


def test_a_newcomer_registers_is_approved_books_a_camera_and_finds_it_everywhere(
    live_server, open_page, screen, screenshot, session, make_user, make_category, make_resource
):
    make_user(email="admin@example.org", display_name="Alice Admin", roles={"admin"})
    cameras = make_category(name="Caméra", name_plural="Caméras", needs_approval=False)
    camera = make_resource(name="Caméra Panasonic HC-V785", category=cameras, departement_code="34")
    organisation = Organisation(name="Les Petits Débrouillards Occitanie", departement_code="34")
    session.add(organisation)
    session.commit()

    page = open_page()
    page.goto(f"{live_server}/register")
    fits(page, screen)
    page.fill("input[name=email]", "nina@example.org")
    page.fill("input[name=display_name]", "Nina Roussel")
    page.select_option("select[name=departement]", "34")
    page.select_option("select[name=organisation]", str(organisation.id))
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=confirm]", PASSWORD)
    if page.locator("input[name=consent]").count():
        page.check("input[name=consent]")
    submit(page, "Créer mon compte")
    page.close()

    admin = open_page()
    log_in(admin, live_server, "admin@example.org")
    admin.goto(f"{live_server}/home")
    assert "Nina Roussel" in admin.inner_text("main")
    fits(admin, screen)
    admin.goto(f"{live_server}/admin/users?show=pending")
    submit(admin, "Valider")
    admin.close()

    page = open_page()
    log_in(page, live_server, "nina@example.org")
    page.goto(f"{live_server}/resources?departement=34")
    with page.expect_navigation():
        page.click(f"main a:has-text('{camera.name}')")
    fits(page, screen)
    # Next Monday then Tuesday on the month's calendar: the form opens filled with the two days.
    page.click("[data-pick-day='2027-01-18']")
    with page.expect_navigation():
        page.click("[data-pick-day='2027-01-19']")
    assert page.input_value("input[name=starts_at]") == "2027-01-18T09:00"
    assert page.input_value("input[name=ends_at]") == "2027-01-19T17:00"
    page.fill("textarea[name=purpose]", "Captation d'une conférence à Montpellier")
    screenshot(page, f"journey-booking-form-{screen}", full_page=True)
    submit(page, "Réserver")
    assert "Réservation confirmée" in page.inner_text("main")
    fits(page, screen)

    page.goto(f"{live_server}/bookings/mine")
    assert camera.name in page.inner_text("main")
    page.goto(f"{live_server}/resources/{camera.id}?month=2027-01")
    assert "ma réservation" in page.inner_text(".calendar")
    page.goto(f"{live_server}/account")
    if page.locator("#agenda input[readonly]").count() == 0:
        submit(page, "Créer mon adresse d'abonnement")
    feed = page.locator("#agenda input[readonly]").first.input_value()
    # The address names the configured site; here the site is this test's server.
    calendar = page.request.get(live_server + urlsplit(feed).path).text()
    assert calendar.startswith("BEGIN:VCALENDAR") and camera.name in calendar.replace("\r\n ", "")
    fits(page, screen)
    page.close()


def test_the_host_approves_hands_over_and_takes_back_with_a_note(
    live_server, open_page, screen, screenshot, session, make_user, make_category, make_resource, make_booking
):
    host_user = make_user(email="hote@example.org", display_name="Inès Vidal", hosts=("34",))
    member = make_user(display_name="Camille Martin")
    cameras = make_category(name="Caméra", name_plural="Caméras")
    camera = make_resource(name="Caméra Sony FX30", category=cameras, departement_code="34", contents="Boîtier")
    asked = make_booking(
        resource=camera, user=member, starts_at=paris(11, 11), ends_at=paris(12, 17), status="requested"
    )
    assert host_user.is_host

    host = open_page()
    log_in(host, live_server, "hote@example.org")
    host.goto(f"{live_server}/home")
    assert re.search(r"Demandes en attente\s*1", host.inner_text("main"))
    screenshot(host, f"journey-host-home-{screen}", full_page=True)
    host.goto(f"{live_server}/desk")
    fits(host, screen)
    submit(host, "Valider")
    assert "Demande validée" in host.inner_text("main")
    pickup = host.locator(f"form[action$='/desk/bookings/{asked.id}/pickup']")
    for box in pickup.locator("input[name=checked]").all():
        box.check()
    with host.expect_navigation():
        pickup.locator("button[type=submit]").click()
    assert "Remis à Camille Martin" in host.inner_text("main")
    back = host.locator(f"form[action$='/desk/bookings/{asked.id}/return']")
    for box in back.locator("input[name=checked]").all():
        box.check()
    back.locator("textarea[name=note]").fill("Rendue avec la sacoche mouillée")
    with host.expect_navigation():
        back.locator("button[type=submit]").click()
    assert "Rendue avec la sacoche mouillée" in host.inner_text("main") or "Rendu" in host.inner_text("main")
    fits(host, screen)
    host.close()

    session.rollback()  # end the test's read snapshot: the server wrote since
    returned = session.get(Booking, asked.id)
    assert returned.status == "returned"


def test_a_shared_account_shows_its_login_only_during_the_booking(
    app, live_server, open_page, screen, clock, make_user, make_category, make_resource, make_booking
):
    accounts = make_category(name="Compte Zoom", name_plural="Comptes Zoom", needs_pickup=False, needs_approval=False)
    secret = credentials.encrypt(app.config["CREDENTIALS_KEY"], credentials.Credentials("zoom@example.org", "mot-zoom"))
    zoom = make_resource(name="Zoom Pro n° 1", category=accounts, credentials_encrypted=secret)
    member = make_user(email="lea@example.org", display_name="Léa Fabre")
    held = make_booking(resource=zoom, user=member, starts_at=paris(11, 14), ends_at=paris(11, 17))

    page = open_page()
    log_in(page, live_server, "lea@example.org")
    page.goto(f"{live_server}/bookings/{held.id}")
    assert "zoom@example.org" not in page.content()
    assert "Disponibles à partir du lundi 11 janvier 2027, 14\u00a0h\u00a000" in page.inner_text("main")
    fits(page, screen)

    clock(paris(11, 15))
    page.goto(f"{live_server}/bookings/{held.id}")
    submit(page, "Afficher les identifiants")
    assert "zoom@example.org" in page.inner_text("main") and "mot-zoom" in page.inner_text("main")
    fits(page, screen)
    page.close()


def test_a_member_waits_for_a_full_session_and_is_promoted_when_a_seat_frees(
    live_server, open_page, screen, screenshot, session, make_user, make_training
):
    first = make_user(email="hugo@example.org", display_name="Hugo Marty")
    make_user(email="lea@example.org", display_name="Léa Fabre")
    obs = make_training(title="OBS Studio : premiers pas", capacity=1)
    session.add(
        Enrolment(
            session_id=obs.id,
            user_id=first.id,
            status="registered",
            queued_at=NOW - timedelta(days=2),
            created_at=NOW,
            updated_at=NOW,
            sequence=0,
        )
    )
    session.commit()

    lea = open_page()
    log_in(lea, live_server, "lea@example.org")
    lea.goto(f"{live_server}/trainings/{obs.id}")
    submit(lea, "M'inscrire sur la liste d'attente")
    assert "n° 1" in lea.inner_text("main")
    lea.goto(f"{live_server}/home")
    assert "OBS Studio : premiers pas" in lea.inner_text("main") and "n° 1" in lea.inner_text("main")
    screenshot(lea, f"journey-member-home-{screen}", full_page=True)
    fits(lea, screen)

    hugo = open_page()
    log_in(hugo, live_server, "hugo@example.org")
    hugo.goto(f"{live_server}/trainings/{obs.id}")
    submit(hugo, "Annuler mon inscription")
    hugo.close()

    lea.goto(f"{live_server}/trainings/{obs.id}")
    assert "Inscrit·e" in lea.inner_text("main")
    fits(lea, screen)
    lea.close()
    session.rollback()
    lea_id = session.scalar(select(User.id).where(User.email == "lea@example.org"))
    assert session.scalar(select(Enrolment.status).where(Enrolment.user_id == lea_id)) == "registered"


def test_the_agenda_of_a_month_and_departement_prints_as_a_pdf_programme(
    live_server, open_page, screen, screenshot, make_event
):
    make_event(
        title="Nuit des étoiles à Carcassonne",
        starts_at=paris(14, 20, month=5),
        departement_code="11",
        town="Carcassonne",
        region_supported=True,
    )
    make_event(
        title="Café des sciences à Toulouse", starts_at=paris(20, 18, month=5), departement_code="31", town="Toulouse"
    )

    page = open_page()
    page.goto(f"{live_server}/agenda?month=2027-05&departement=11")
    fits(page, screen)
    assert "Nuit des étoiles" in page.inner_text("main") and "Toulouse" not in page.inner_text("main")
    with page.expect_navigation():
        page.click("text=Programme à imprimer")
    assert "Nuit des étoiles" in page.inner_text("body") and "Café des sciences" not in page.inner_text("body")
    assert "soutenu par la Région" in page.inner_text("body")
    assert page.locator("button[data-print]").count() == 1 and page.locator("a:has-text('Retour')").count() == 1
    page.emulate_media(media="print")
    assert not page.locator("button[data-print]").is_visible()
    programme = page.pdf(format="A4", print_background=True)
    assert programme.startswith(b"%PDF")
    page.close()


def test_the_guides_tools_part_books_through_a_filled_form(
    live_server, open_page, screen, make_user, make_category, make_resource
):
    cameras = make_category(slug="camera", name="Caméra", name_plural="Caméras", needs_approval=False)
    make_resource(name="Caméra Sony FX30", category=cameras, departement_code="34")
    make_user(email="lea@example.org", display_name="Léa Fabre", departement_code="34")

    page = open_page()
    log_in(page, live_server, "lea@example.org")
    page.goto(f"{live_server}/guide/outils")
    fits(page, screen)
    block = page.locator(".live-block", has_text="Caméra").first
    with page.expect_navigation():
        block.locator("a:has-text('Réserver')").click()
    assert page.input_value("select[name=category]") == str(cameras.id)
    assert page.input_value("select[name=departement]") == "34"
    fits(page, screen)
    page.close()


def test_booking_a_resource_by_keyboard_alone(live_server, browser, make_user, make_category, make_resource):
    cameras = make_category(name="Caméra", name_plural="Caméras", needs_approval=False)
    camera = make_resource(name="Caméra Sony FX30", category=cameras, departement_code="34")
    make_user(email="lea@example.org", display_name="Léa Fabre")
    page = browser.new_page(**SCREENS["desktop"])
    log_in(page, live_server, "lea@example.org")
    page.goto(f"{live_server}/resources/{camera.id}?month=2027-01")

    def tab_to(selector: str, limit: int = 120) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(f"document.activeElement.matches({selector!r})"):
                return
        raise AssertionError(f"Tab never reached {selector}")

    tab_to("[data-pick-day='2027-01-20']")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # focus is visible
    page.keyboard.press("Enter")  # the first day
    assert "20 janvier" in page.inner_text("[data-pick-status]")
    tab_to("[data-pick-day='2027-01-21']")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # the last day: the form opens filled
    assert page.input_value("input[name=starts_at]") == "2027-01-20T09:00"
    assert page.input_value("input[name=ends_at]") == "2027-01-21T17:00"
    tab_to("textarea[name=purpose]")
    page.keyboard.type("Tournage d'une expérience")
    tab_to("main [type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Réservation confirmée" in page.inner_text("main")
    page.close()


def test_dragging_across_free_days_opens_the_form_for_the_range(
    live_server, browser, make_user, make_category, make_resource
):
    camera = make_resource(name="Caméra Sony FX30", category=make_category(), departement_code="34")
    make_user(email="lea@example.org", display_name="Léa Fabre")
    page = browser.new_page(**SCREENS["desktop"])
    log_in(page, live_server, "lea@example.org")
    page.goto(f"{live_server}/resources/{camera.id}?month=2027-01")
    with page.expect_navigation():
        page.drag_and_drop("[data-pick-day='2027-01-25']", "[data-pick-day='2027-01-27']")
    assert page.input_value("input[name=starts_at]") == "2027-01-25T09:00"
    assert page.input_value("input[name=ends_at]") == "2027-01-27T17:00"
    page.close()
