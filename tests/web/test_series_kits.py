"""A kit series through the pages: /series/new?kit=<slug> previews every date of the whole
kit, books the free ones in one go, and the series page cancels a date's whole kit."""

import html
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.db import unit_of_work
from app.models import Booking, BookingSeries, KitBooking
from app.services import kits
from app.services.kits import LineSpec
from tests.factories import NOW, ctx

PARIS = ZoneInfo("Europe/Paris")


def paris(day: int, hour: int, month: int = 3) -> datetime:
    return datetime(2027, month, day, hour, tzinfo=PARIS).astimezone(UTC)


@pytest.fixture(autouse=True)
def monday_morning(clock):
    return clock(NOW)


@pytest.fixture
def gear(make_category, make_resource):
    camera, micro, light = (make_category(name=n, needs_approval=True) for n in ("Caméra", "Micro", "Lumière"))
    return {
        "camera": make_resource(name="Caméra Sony", category=camera, departement_code="31"),
        "micro": make_resource(name="Micro Rode", category=micro, departement_code="31"),
        "light": make_resource(name="Lumière LED", category=light, departement_code="31"),
    }


@pytest.fixture
def kit(session, make_user, gear):
    with unit_of_work(session):
        made = kits.save(
            session,
            ctx(make_user(roles={"admin"})),
            kit=None,
            name="Kit live",
            description="",
            departement_code=None,
            lines=[LineSpec(category_id=gear[k].category_id) for k in ("camera", "micro", "light")],
        )
    return made


@pytest.fixture
def member(make_user):
    return make_user(display_name="Léa Membre")


@pytest.fixture
def third_wednesday_taken(make_user, make_booking, gear):
    return make_booking(resource=gear["camera"], user=make_user(), starts_at=paris(31, 9), ends_at=paris(31, 13))


def four_wednesdays(**more) -> dict:
    return {
        "starts_at": "2027-03-17T10:00",
        "ends_at": "2027-03-17T12:00",
        "recurrence": "weekly",
        "interval": "1",
        "count": "4",
        "purpose": "Live du mercredi",
        **more,
    }


def text_of(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def test_the_kit_preview_shows_each_date_of_the_whole_kit_and_stores_nothing(
    client, auth, session, kit, member, third_wednesday_taken
):
    auth.login(member)
    assert client.get(f"/series/new?kit={kit.slug}").status_code == 200
    response = client.post(f"/series/new?kit={kit.slug}", data=four_wednesdays(preview="1"))
    assert response.status_code == 200
    page = text_of(response)
    assert page.count(">Libre<") == 3 and page.count(">Déjà pris<") == 1
    assert "Le kit entier est libre à partir du" in page
    assert f"/kits/{kit.slug}?start=2027-03-31T" in page
    assert "Réserver les 3 créneaux libres" in page
    session.rollback()
    assert session.scalars(select(KitBooking)).all() == [] and session.scalars(select(BookingSeries)).all() == []


def test_booking_the_free_dates_of_a_kit_series_in_one_go(client, auth, session, kit, member, third_wednesday_taken):
    auth.login(member)
    response = client.post(f"/series/new?kit={kit.slug}", data=four_wednesdays(book="1"))
    assert response.status_code == 302
    made = session.scalar(select(BookingSeries))
    assert response.headers["Location"].endswith(f"/series/{made.id}") and made.resource_id is None
    items = session.scalars(select(Booking).where(Booking.series_id == made.id)).all()
    assert len(items) == 9 and len({b.kit_booking_id for b in items}) == 3
    page = text_of(client.get(f"/series/{made.id}"))
    assert "Demande envoyée pour le kit, 3 dates" in page
    assert "1 date n'était pas libre : elle n'est pas réservée." in page
    assert "kit « Kit live »" in page and page.count("Annuler celle-ci et les suivantes") == 3


def test_cancelling_a_date_on_the_series_page_cancels_its_whole_kit(client, auth, session, kit, member):
    auth.login(member)
    client.post(f"/series/new?kit={kit.slug}", data=four_wednesdays(book="1"))
    made = session.scalar(select(BookingSeries))
    first = session.scalars(select(Booking).where(Booking.series_id == made.id).order_by(Booking.id)).first()
    response = client.post(f"/series/{made.id}/cancel", data={"booking": first.id, "scope": "one"})
    assert response.status_code == 302
    assert "3 réservations annulées." in text_of(client.get(f"/series/{made.id}"))
    session.expire_all()
    cancelled = session.scalars(select(Booking).where(Booking.kit_booking_id == first.kit_booking_id)).all()
    assert {str(b.status) for b in cancelled} == {"cancelled"}


def test_a_kit_series_of_500_dates_or_an_unknown_kit_is_refused_without_an_error_page(
    client, auth, session, kit, member
):
    auth.login(member)
    for button in ("preview", "book"):
        response = client.post(f"/series/new?kit={kit.slug}", data=four_wednesdays(count="500", **{button: "1"}))
        assert response.status_code == 200 and "Une série compte au plus 52 dates." in text_of(response)
    assert session.scalars(select(BookingSeries)).all() == []
    assert client.get("/series/new?kit=nope").status_code == 404
    assert client.get("/series/new?kit=").status_code == 404
