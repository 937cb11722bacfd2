"""Kits through the pages: the list with whole kits free, booking one, the result with where
each item is kept, cancelling and moving it, the admins' definition, the desk's kit line."""

import html
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.db import unit_of_work
from app.models import Booking, BookingStatus, Kit, KitBooking
from app.services import kits
from app.services.kits import LineSpec
from tests.factories import NOW, ctx

PARIS = ZoneInfo("Europe/Paris")


def paris(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=PARIS).astimezone(UTC)


def text_of(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


@pytest.fixture(autouse=True)
def monday_morning(clock):
    return clock(NOW)


@pytest.fixture
def admin(make_user):
    return make_user(roles={"admin"})


@pytest.fixture
def member(make_user):
    return make_user(display_name="Léa Membre", departement_code="82")


@pytest.fixture
def gear(make_category, make_resource):
    camera = make_resource(
        name="Caméra Sony", category=make_category(name="Caméra", needs_approval=False), departement_code="82"
    )
    micro = make_category(name="Micro", needs_approval=False)
    make_resource(name="Micro Toulouse", category=micro, departement_code="31")
    return {"camera": camera, "micro": micro}


@pytest.fixture
def kit(session, admin, gear):
    with unit_of_work(session):
        return kits.save(
            session,
            ctx(admin),
            kit=None,
            name="Kit live",
            description="Caméra et micro",
            departement_code=None,
            lines=[LineSpec(resource_id=gear["camera"].id), LineSpec(category_id=gear["micro"].id)],
        )


PERIOD = {"starts_at": "2027-01-20T10:00", "ends_at": "2027-01-20T18:00", "purpose": "Live"}


def test_the_list_shows_each_kit_with_its_lines_and_whole_kits_free_for_a_period(
    client, kit, gear, make_user, make_booking
):
    page = text_of(client.get("/kits"))
    assert "Kit live" in page and "Caméra Sony" in page and "Micro" in page
    assert "kit complet libre" not in page  # no period chosen yet
    page = text_of(client.get("/kits?start=2027-01-20T10:00&end=2027-01-20T18:00"))
    assert "1 kit complet libre" in page
    make_booking(
        resource=gear["camera"], user=make_user(), starts_at=paris(2027, 1, 20), ends_at=paris(2027, 1, 20, 18)
    )
    page = text_of(client.get("/kits?start=2027-01-20T10:00&end=2027-01-20T18:00"))
    assert re.search(r"\b0 kits? complets? libres?", page)


def test_booking_a_kit_shows_where_each_item_is_kept_and_warns_outside_the_departement(
    client, auth, session, kit, member
):
    auth.login(member)
    assert client.get("/kits/kit-live").status_code == 200
    response = client.post("/kits/kit-live", data=PERIOD)
    assert response.status_code == 302
    made = session.scalar(select(KitBooking))
    assert response.headers["Location"].endswith(f"/kits/bookings/{made.id}")
    page = text_of(client.get(response.headers["Location"]))
    assert "Kit réservé." in page
    assert "Stock 82" in page and "Stock 31" in page  # the pickup point of each item
    assert page.count("hors du vôtre") == 1  # the micro, kept in Haute-Garonne
    assert "Haute-Garonne" in page


def test_a_pending_kit_says_request_sent(client, auth, session, admin, member, make_category, make_resource):
    needs_host = make_category(name="Lumière", needs_approval=True)
    make_resource(name="Lumière Montauban", category=needs_host, departement_code="82")
    with unit_of_work(session):
        kits.save(
            session,
            ctx(admin),
            kit=None,
            name="Lumière",
            description="",
            departement_code=None,
            lines=[LineSpec(category_id=needs_host.id)],
        )
    auth.login(member)
    page = text_of(client.post("/kits/lumiere", data=PERIOD, follow_redirects=True))
    assert "Demande envoyée" in page and "Kit réservé" not in page


def test_a_kit_with_a_line_taken_is_refused_with_the_next_whole_kit_slot_and_nothing_held(
    client, auth, session, kit, member, gear, make_user, make_booking
):
    make_booking(
        resource=gear["camera"], user=make_user(), starts_at=paris(2027, 1, 20), ends_at=paris(2027, 1, 20, 18)
    )
    auth.login(member)
    response = client.post("/kits/kit-live", data=PERIOD)
    assert response.status_code == 200
    page = text_of(response)
    assert "« Caméra Sony » n'est pas disponible" in page and "Rien n'a été réservé" in page
    assert "Le kit entier est libre :" in page and "Reprendre le formulaire avec ce créneau" in page
    assert session.scalar(select(func.count()).select_from(KitBooking)) == 0
    assert session.scalar(select(func.count()).select_from(Booking)) == 1


def test_cancelling_the_kit_from_its_page_cancels_every_item(client, auth, session, kit, member):
    auth.login(member)
    client.post("/kits/kit-live", data=PERIOD)
    made = session.scalar(select(KitBooking))
    page = text_of(client.post(f"/kits/bookings/{made.id}/cancel", follow_redirects=True))
    assert "Kit annulé : 2 objet(s) libéré(s)." in page
    session.expire_all()
    assert {b.status for b in session.scalars(select(Booking)).unique()} == {BookingStatus.CANCELLED}


def test_moving_the_kit_moves_every_item(client, auth, session, kit, member):
    auth.login(member)
    client.post("/kits/kit-live", data=PERIOD)
    made = session.scalar(select(KitBooking))
    page = text_of(
        client.post(
            f"/kits/bookings/{made.id}/dates",
            data={"starts_at": "2027-01-27T10:00", "ends_at": "2027-01-27T18:00"},
            follow_redirects=True,
        )
    )
    assert "Tout le kit est déplacé." in page
    session.expire_all()
    assert {b.starts_at for b in session.scalars(select(Booking)).unique()} == {paris(2027, 1, 27)}


def test_someone_else_cannot_see_or_cancel_a_kit_booking(client, auth, session, kit, member, make_user):
    auth.login(member)
    client.post("/kits/kit-live", data=PERIOD)
    made = session.scalar(select(KitBooking))
    auth.logout()
    auth.login(make_user())
    assert client.get(f"/kits/bookings/{made.id}").status_code == 403
    assert client.post(f"/kits/bookings/{made.id}/cancel").status_code == 403
    session.expire_all()
    assert all(b.is_holding for b in session.scalars(select(Booking)).unique())


def test_only_admins_open_the_kit_admin_pages(client, auth, member):
    auth.login(member)
    for url in ("/kits/admin", "/kits/admin/new"):
        assert client.get(url).status_code == 403


def test_an_admin_defines_a_kit_from_the_form(client, auth, session, admin, gear):
    auth.login(admin)
    assert client.get("/kits/admin/new").status_code == 200
    data = {
        "name": "Kit interview",
        "description": "Deux voix",
        "departement": "",
        "lines-0-item": str(gear["camera"].id),
        "lines-0-category": "",
        "lines-0-quantity": "1",
        "lines-1-item": "",
        "lines-1-category": str(gear["micro"].id),
        "lines-1-quantity": "1",
    }
    response = client.post("/kits/admin/new", data=data)
    assert response.status_code == 302
    made = session.scalar(select(Kit))
    assert made.slug == "kit-interview" and len(made.lines) == 2
    page = text_of(client.get(f"/kits/admin/{made.id}/edit"))
    assert "Kit interview" in page


def test_a_kit_asking_more_units_than_exist_is_refused_on_the_form(client, auth, session, admin, gear):
    auth.login(admin)
    data = {
        "name": "Trop de micros",
        "departement": "",
        "lines-0-category": str(gear["micro"].id),
        "lines-0-quantity": "3",
    }
    page = text_of(client.post("/kits/admin/new", data=data))
    assert "3 demandés, mais seulement 1 exemplaire" in page
    assert session.scalar(select(func.count()).select_from(Kit)) == 0


def test_an_error_names_the_line_as_numbered_on_the_form_blank_lines_included(client, auth, session, admin, gear):
    auth.login(admin)
    data = {"name": "Kit mal rempli", "description": "", "departement": ""}
    for n in range(4):
        data |= {f"lines-{n}-item": "", f"lines-{n}-category": "", f"lines-{n}-quantity": "1"}
    data |= {"lines-0-item": str(gear["camera"].id), "lines-1-category": str(gear["micro"].id)}
    data |= {"lines-3-item": str(gear["camera"].id), "lines-3-category": str(gear["micro"].id)}  # line 3 left blank
    page = text_of(client.post("/kits/admin/new", data=data))
    assert "Ligne 4 : choisissez un objet, ou une catégorie et un nombre." in page
    assert session.scalar(select(func.count()).select_from(Kit)) == 0


def test_the_desk_shows_a_kit_item_with_its_kit(client, auth, session, kit, member, make_user):
    auth.login(member)
    client.post("/kits/kit-live", data=PERIOD)
    auth.logout()
    auth.login(make_user(hosts=("82",)))
    page = text_of(client.get("/desk"))
    assert "Kit « Kit live » — 2 objets" in page


def test_a_guide_page_draws_the_kit_block_with_a_link_to_book_it(app, session, kit, member):
    from flask import render_template_string

    from app.models import GuidePage
    from app.services import guide

    page = GuidePage(slug="essai", title="Essai", body="[[reserver:kit-live]]\n", position=99)
    parts = guide.render(session, ctx(member), page=page)
    with app.test_request_context("/guide/essai"):
        drawn = render_template_string(
            "{% from 'guide/_parts.html' import render_parts %}{{ render_parts(parts) }}", parts=parts
        )
    drawn = html.unescape(re.sub(r"\s+", " ", drawn))
    assert "Kit live" in drawn and "1 kit complet libre cette semaine" in drawn
    assert 'href="/kits/kit-live"' in drawn or "/kits/kit-live" in drawn


def test_bad_input_on_the_kit_form_gives_a_message_and_stores_nothing(client, auth, session, kit, member):
    auth.login(member)
    page = text_of(client.post("/kits/kit-live", data={**PERIOD, "ends_at": "2027-01-19T10:00"}))
    assert "La fin doit venir après le début." in page
    assert client.post("/kits/kit-live", data={**PERIOD, "starts_at": "", "ends_at": "zzz"}).status_code == 200
    assert client.get("/kits/pas-de-kit").status_code == 404
    assert client.get("/kits/bookings/999").status_code == 404
    assert session.scalar(select(func.count()).select_from(Booking)) == 0
