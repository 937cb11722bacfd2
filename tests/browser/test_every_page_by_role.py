"""The main pages as each person sees them, logged out and in each role, on a desktop and a phone.

The browser's audit (conftest) runs axe-core on every page: no serious or critical finding. On
the phone, no page scrolls sideways. A page that answers with an error fails here too.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.browser.conftest import assert_no_sideways_scroll, log_in
from tests.factories import NOW

pytestmark = pytest.mark.browser

SCREENS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}, "locale": "fr-FR"},
    "phone": {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "locale": "fr-FR"},
}
EVERYONE = [
    "/",
    "/resources",
    "/resources/{camera}?month=2027-01",
    "/departements/34/week?start=2027-01-11",
    "/kits",
    "/trainings",
    "/trainings/{training}",
    "/agenda",
    "/agenda?month=2027-01&departement=34",
    "/agenda/region",
    "/guide",
    "/guide/outils",
]
PAGES = {
    "visitor": [*EVERYONE, "/login", "/register"],
    "member": [
        *EVERYONE,
        "/home",
        "/bookings/mine",
        "/bookings/{booking}",
        "/bookings/new?resource={camera}&start=2027-01-20T09:00&end=2027-01-21T17:00",
        "/bookings/kit",
        "/trainings/mine",
        "/account",
    ],
    "host": ["/home", "/desk", "/departements/34/week?start=2027-01-11", "/bookings/{booking}"],
    "trainer": ["/home", "/trainings/{training}/participants", "/trainings/new"],
    "admin": ["/home", "/admin/", "/admin/users", "/admin/categories", "/admin/resources", "/admin/outbox"],
}
EMAILS = {
    "member": "lea@example.org",
    "host": "hote@example.org",
    "trainer": "sofia@example.org",
    "admin": "admin@example.org",
}


@pytest.fixture
def scene(clock, make_user, make_category, make_resource, make_booking, make_training, make_event):
    clock(NOW)  # Monday 11 January 2027
    lea = make_user(email="lea@example.org", display_name="Léa Fabre", departement_code="34")
    make_user(email="hote@example.org", display_name="Inès Vidal", hosts=("34",))
    sofia = make_user(email="sofia@example.org", display_name="Sofia Benali", roles={"trainer"})
    make_user(email="admin@example.org", display_name="Alice Admin", roles={"admin"})
    make_user(display_name="Émile Nouveau", approved=False)
    cameras = make_category(slug="camera", name="Caméra", name_plural="Caméras")
    camera = make_resource(name="Caméra Sony FX30", category=cameras, departement_code="34")
    other = make_resource(name="Caméra Canon R10", category=cameras, departement_code="34")
    booking = make_booking(
        resource=camera, user=lea, starts_at=NOW + timedelta(days=2), ends_at=NOW + timedelta(days=3)
    )
    make_booking(
        resource=other,
        user=lea,
        starts_at=NOW + timedelta(days=1),
        ends_at=NOW + timedelta(days=4),
        status="requested",
    )
    training = make_training(trainer=sofia, title="OBS Studio : premiers pas")
    make_event(title="Nuit des étoiles", starts_at=NOW + timedelta(days=5), departement_code="34", town="Montpellier")
    return {"camera": camera.id, "booking": booking.id, "training": training.id}


@pytest.mark.parametrize("screen", sorted(SCREENS))
@pytest.mark.parametrize("role", list(PAGES))
def test_every_main_page_reads_well_for_each_role(live_server, browser, scene, role, screen):
    page = browser.new_page(**SCREENS[screen])
    if role in EMAILS:
        log_in(page, live_server, EMAILS[role])
    for path in PAGES[role]:
        response = page.goto(live_server + path.format(**scene))
        assert response is not None and response.status == 200, f"{path} as {role}: {response and response.status}"
        if screen == "phone":
            assert_no_sideways_scroll(page)
        page.title()  # acting on the page has the audit check it before the next one loads
    page.close()
    assert browser.audit.pages_checked >= len(PAGES[role])
