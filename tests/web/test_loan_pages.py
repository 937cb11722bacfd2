"""What a member reads about the loan: where and when to come, a slot to take instead, and a
finished booking that no longer offers changes."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import select

from app.db import unit_of_work
from app.models import OutboxMessage
from app.services import booking, credentials
from tests.factories import NOW, ctx

PARIS = ZoneInfo("Europe/Paris")
HOURS = [(d, "09:00", "12:00") for d in range(5)] + [(d, "14:00", "17:00") for d in range(5)]


def paris(day: int, hour: int) -> datetime:
    return datetime(2027, 1, day, hour, tzinfo=PARIS).astimezone(UTC)


def form_value(instant: datetime) -> str:
    return instant.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture(autouse=True)
def monday_morning(clock):
    return clock(NOW)


@pytest.fixture
def camera(make_pickup_point, make_resource, make_category):
    make_pickup_point(
        departement_code="34",
        name="Maison de la science",
        address="2 place de la Comédie\n34000 Montpellier",
        access_notes="Sonner à l'accueil",
        phone="04 00 00 00 00",
        hours=HOURS,
    )
    return make_resource(name="Caméra Sony", departement_code="34", category=make_category(needs_approval=False))


def test_the_resource_page_says_where_and_when_to_come(client, camera):
    page = client.get(f"/resources/{camera.id}").get_data(as_text=True)
    assert "Maison de la science" in page and "2 place de la Comédie, 34000 Montpellier" in page
    assert (
        "Sonner à l&#39;accueil" in page
        and "lundi : 9\u00a0h\u00a000 – 12\u00a0h\u00a000, 14\u00a0h\u00a000 – 17\u00a0h\u00a000" in page
    )
    assert camera.inventory_code in page


def test_the_confirmation_email_and_its_ics_say_where_to_pick_up(session, camera, make_user):
    with unit_of_work(session):
        made = booking.create(
            session, ctx(make_user()), resource=camera, starts_at=paris(13, 10), ends_at=paris(14, 16), purpose=""
        )
    mail = session.scalar(select(OutboxMessage).where(OutboxMessage.key == f"booking:{made.id}:approved"))
    assert "Maison de la science, 2 place de la Comédie, 34000 Montpellier" in mail.body_text
    assert (
        "Horaires : lundi : 9\u00a0h\u00a000 – 12\u00a0h\u00a000, 14\u00a0h\u00a000 – 17\u00a0h\u00a000"
        in mail.body_text
    )
    locations = {str(e.get("LOCATION")) for e in icalendar.Calendar.from_ical(mail.ics).walk("VEVENT")}
    assert locations == {"Maison de la science, 2 place de la Comédie 34000 Montpellier"}


def test_a_refused_slot_offers_a_free_one_within_the_hours_as_a_link_that_fills_the_form(
    client, auth, session, camera, make_user, make_booking
):
    make_booking(resource=camera, user=make_user(), starts_at=paris(13, 9), ends_at=paris(13, 16))
    auth.login(make_user())
    page = client.post(
        f"/bookings/new?resource={camera.id}",
        data={"starts_at": form_value(paris(13, 10)), "ends_at": form_value(paris(13, 11)), "purpose": ""},
    ).get_data(as_text=True)
    assert "Prochain créneau libre de cette durée : mercredi 13 janvier 2027, 16\u00a0h\u00a000" in page
    link = f"/bookings/new?resource={camera.id}&amp;start=2027-01-13T16:00&amp;end=2027-01-13T17:00"
    assert link in page
    filled = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert 'value="2027-01-13T16:00"' in filled and 'value="2027-01-13T17:00"' in filled


def test_a_finished_booking_offers_no_change_extension_or_cancellation(client, auth, camera, make_user, make_booking):
    member = make_user()
    done = make_booking(
        resource=camera, user=member, starts_at=NOW - timedelta(days=3), ends_at=NOW - timedelta(days=1)
    )
    auth.login(member)
    page = client.get(f"/bookings/{done.id}").get_data(as_text=True)
    assert "Cette réservation est terminée" in page
    for offer in ("Changer les dates", "Prolonger", "Annuler la réservation"):
        assert offer not in page
    refused = client.post(f"/bookings/{done.id}/cancel")
    assert refused.status_code == 302
    assert "terminée" in client.get(f"/bookings/{done.id}").get_data(as_text=True)


def test_an_account_login_button_says_from_when_it_works(
    app, client, auth, make_user, make_category, make_resource, make_booking
):
    key = app.config["CREDENTIALS_KEY"]
    zoom = make_resource(
        category=make_category(needs_pickup=False, needs_approval=False),
        credentials_encrypted=credentials.encrypt(key, credentials.Credentials("z@example.org", "pw")),
    )
    member = make_user()
    later = make_booking(resource=zoom, user=member, starts_at=paris(13, 14), ends_at=paris(13, 16))
    auth.login(member)
    page = client.get(f"/bookings/{later.id}").get_data(as_text=True)
    assert "disabled>Afficher les identifiants" in page
    assert "Disponibles à partir du mercredi 13 janvier 2027, 14\u00a0h\u00a000." in page


def test_errors_of_a_date_change_show_in_the_opened_panel(client, auth, camera, make_user, make_booking):
    member = make_user()
    made = make_booking(resource=camera, user=member, starts_at=paris(13, 10), ends_at=paris(13, 11))
    auth.login(member)
    page = client.post(
        f"/bookings/{made.id}/dates",
        data={"starts_at": form_value(paris(16, 10)), "ends_at": form_value(paris(16, 11))},  # a Saturday
    ).get_data(as_text=True)
    assert '<details class="mb-3" open><summary>Changer les dates' in page
    assert "Le retrait doit tomber pendant les heures d&#39;ouverture" in page


def test_a_slot_outside_the_hours_offers_one_within_them_keeping_the_purpose(client, auth, camera, make_user):
    auth.login(make_user())
    page = client.post(
        f"/bookings/new?resource={camera.id}",
        data={"starts_at": form_value(paris(16, 10)), "ends_at": form_value(paris(16, 11)), "purpose": "Tournage"},
    ).get_data(as_text=True)  # a Saturday
    assert "Le retrait doit tomber pendant les heures d&#39;ouverture" in page
    assert "start=2027-01-18T09:00&amp;end=2027-01-18T10:00&amp;purpose=Tournage" in page
