"""Pages that went wrong on a phone, on paper or in their headings, kept right: widths at 375 px,
what a print keeps, a page title above its content's headings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.models import Enrolment
from tests.browser.conftest import assert_no_sideways_scroll, log_in
from tests.factories import NOW

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "locale": "fr-FR"}
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "fr-FR"}


@pytest.fixture(autouse=True)
def monday_morning(clock):
    return clock(NOW)


def enrol(session, training, user, status="registered"):
    session.add(
        Enrolment(
            session_id=training.id,
            user_id=user.id,
            status=status,
            queued_at=NOW,
            created_at=NOW,
            updated_at=NOW,
            sequence=0,
        )
    )
    session.commit()


def test_the_trainers_participants_page_fits_a_phone(live_server, browser, session, make_user, make_training):
    trainer = make_user(email="sofia@example.org", display_name="Sofia Benali", roles={"trainer"})
    training = make_training(trainer=trainer, starts_at=NOW - timedelta(hours=1))
    for n in range(3):
        enrol(
            session,
            training,
            make_user(
                display_name=f"Marie-Christine de La Tour-Villeneuve {n}",
                email=f"marie-christine.delatourvilleneuve{n}@association-scientifique-occitanie.example.org",
            ),
        )
    page = browser.new_page(**PHONE)
    log_in(page, live_server, "sofia@example.org")
    page.goto(f"{live_server}/trainings/{training.id}/participants")
    assert "Marie-Christine" in page.inner_text("main")
    assert_no_sideways_scroll(page)
    page.close()


def test_a_long_unbroken_purpose_does_not_widen_a_booking_page(
    live_server, browser, make_user, make_resource, make_booking
):
    member = make_user(email="lea@example.org")
    camera = make_resource(name="Caméra Sony FX30")
    booked = make_booking(
        resource=camera,
        user=member,
        starts_at=NOW + timedelta(days=2),
        ends_at=NOW + timedelta(days=3),
        purpose="Tournage" * 80,
    )
    page = browser.new_page(**PHONE)
    log_in(page, live_server, "lea@example.org")
    page.goto(f"{live_server}/bookings/{booked.id}")
    assert_no_sideways_scroll(page)
    page.close()


def test_a_printed_certificate_keeps_its_trainer_date_and_the_regions_mention(
    live_server, browser, session, make_user, make_training
):
    trainer = make_user(email="sofia@example.org", display_name="Sofia Benali", roles={"trainer"})
    training = make_training(trainer=trainer, starts_at=NOW - timedelta(days=2))
    attendee = make_user(display_name="Camille Martin")
    enrol(session, training, attendee, status="attended")
    page = browser.new_page(**DESKTOP)
    log_in(page, live_server, "sofia@example.org")
    page.goto(f"{live_server}/trainings/{training.id}/certificate/{attendee.id}")
    assert page.locator("main").get_by_role("link", name="Retour").count() == 1
    page.emulate_media(media="print")
    footer = page.locator(".certificate footer")
    assert footer.is_visible()
    words = footer.inner_text()
    assert "Sofia Benali" in words and "Délivrée le" in words and "Région Occitanie" in words
    assert not page.locator("button[data-print]").is_visible()
    assert not page.locator(".footer-malle").is_visible()
    page.close()


def test_times_on_the_programme_never_break_between_hours_and_minutes(live_server, browser, make_event):
    make_event(
        title="Conférence sur les abeilles sauvages et les plantes mellifères des garrigues",
        starts_at=datetime(2027, 5, 12, 16, tzinfo=UTC),
        departement_code="34",
        town="Montpellier",
    )
    page = browser.new_page(**DESKTOP)
    page.goto(f"{live_server}/agenda/print?month=2027-05&format=bookmark")
    when = page.locator(".events .when").first.inner_text()
    assert "18\u00a0h\u00a000" in when
    page.close()


def test_a_guide_pages_title_is_bigger_than_the_headings_of_its_text(live_server, browser):
    page = browser.new_page(**DESKTOP)
    page.goto(f"{live_server}/guide/outils")

    def size(selector: str) -> float:
        return float(page.evaluate(f"parseFloat(getComputedStyle(document.querySelector({selector!r})).fontSize)"))

    assert size("main h1") > size("main .guide h2")
    page.close()
