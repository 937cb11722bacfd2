"""The loan form printed by Chromium on one A4 page; the borrower confirms on a 375 px phone."""

import re
from datetime import timedelta

import pytest

from app.models import BookingStatus, Condition, Handover, HandoverKind, Organisation
from tests.browser.conftest import log_in
from tests.factories import NOW

pytestmark = pytest.mark.browser

H = timedelta(hours=1)
CONTENTS = [
    "Caméra Sony FX30",
    "Objectif 18-105 mm",
    "3 batteries NP-FZ100",
    "Chargeur double",
    "Carte SD 128 Go",
    "Micro-cravate sans fil (émetteur et récepteur)",
    "Trépied vidéo",
    "Sacoche de transport",
]


def pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", data))


def pdf_page_size(data: bytes) -> tuple[float, float]:
    found = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    assert found is not None
    return float(found.group(1)), float(found.group(2))


@pytest.fixture
def scene(clock, session, make_user, make_category, make_resource, make_pickup_point, make_booking):
    clock(NOW)
    make_pickup_point(
        departement_code="11",
        name="Local de l'Aude",
        address="Maison des associations\n3 rue de Verdun\n11000 Carcassonne",
        phone="04 68 00 00 00",
        email="aude@example.org",
        hours=[(d, "09:00", "12:30") for d in range(5)] + [(d, "14:00", "18:00") for d in range(4)],
    )
    host = make_user(email="hote@example.org", display_name="Inès Vidal", hosts=("11",))
    holder = make_user(email="camille@example.org", display_name="Camille Martin", phone="06 12 34 56 78")
    holder.organisation = Organisation(name="Les Petits Débrouillards Occitanie")
    session.commit()
    camera = make_resource(
        name="Kit vidéo Sony FX30",
        category=make_category(name="Kit vidéo"),
        departement_code="11",
        contents="\n".join(CONTENTS),
        inventory_code="11-0042",
    )
    loan = make_booking(
        resource=camera, user=holder, starts_at=NOW - 50 * H, ends_at=NOW - 2 * H, status=BookingStatus.RETURNED
    )
    out = Handover(
        booking_id=loan.id,
        kind=HandoverKind.PICKUP,
        recorded_at=NOW - 50 * H,
        recorded_by_id=host.id,
        condition=Condition.OK,
        note="",
        confirmed_at=NOW - 49 * H,
        confirmed_by_id=holder.id,
    )
    out.checked = CONTENTS
    back = Handover(
        booking_id=loan.id,
        kind=HandoverKind.RETURN,
        recorded_at=NOW - H,
        recorded_by_id=host.id,
        condition=Condition.INCOMPLETE,
        note="Manque : Carte SD 128 Go. Rendue le lendemain par courrier, d'après Camille.",
    )
    back.checked = [line for line in CONTENTS if line != "Carte SD 128 Go"]
    session.add_all([out, back])
    session.commit()
    return loan, back


def test_the_loan_form_prints_on_one_a4_page(live_server, browser, screenshot, scene):
    loan, _back = scene
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    log_in(page, live_server, "hote@example.org")
    page.goto(f"{live_server}/loans/{loan.id}/form")
    assert page.is_visible("button[data-print]")
    assert "Les Petits Débrouillards Occitanie" in page.content()
    page.emulate_media(media="print")
    assert not page.is_visible("button[data-print]")  # the buttons and the menu stay on screen
    assert not page.is_visible("nav.navbar")
    screenshot(page, "loan-form-print", full_page=True)
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    assert pdf.startswith(b"%PDF")
    assert pdf_pages(pdf) == 1
    width, height = pdf_page_size(pdf)
    assert abs(width - 595.3) < 2 and abs(height - 841.9) < 2  # A4 in points
    page.close()


def test_the_borrower_confirms_the_return_on_a_phone(live_server, browser, screenshot, scene, session):
    loan, back = scene
    phone = browser.new_page(viewport={"width": 375, "height": 740}, locale="fr-FR", is_mobile=True)
    log_in(phone, live_server, "camille@example.org")
    phone.goto(f"{live_server}/loans/{loan.id}")
    button = phone.locator("button.confirm-receipt")
    assert button.inner_text().strip() == "Je confirme avoir rendu l'objet"
    box = button.bounding_box()
    assert box is not None and box["width"] >= 300  # the whole width of the phone, easy to hit
    overflow = phone.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")
    assert not overflow
    screenshot(phone, "loan-receipt-phone", full_page=True)
    button.click()
    phone.wait_for_selector("text=Merci : vous avez confirmé avoir rendu l'objet.")
    session.rollback()  # a fresh snapshot: the server committed in another connection
    assert session.get(Handover, back.id).confirmed_at == NOW
    phone.close()


def test_the_host_shows_a_qr_code_big_enough_to_scan(live_server, browser, screenshot, scene):
    loan, _back = scene
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    log_in(page, live_server, "hote@example.org")
    page.goto(f"{live_server}/loans/{loan.id}")
    code = page.locator("svg.qr-code")
    box = code.bounding_box()
    assert box is not None and box["width"] >= 200 and abs(box["width"] - box["height"]) < 1
    # The site's own address (SERVER_NAME in the tests), as a phone on the network opens it.
    assert page.locator("[data-qr-address]").inner_text() == f"http://localhost/loans/{loan.id}"
    screenshot(page, "loan-receipt-host", full_page=True)
    page.close()
