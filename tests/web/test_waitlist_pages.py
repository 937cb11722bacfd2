"""The waitlist through its pages: « Prévenez-moi », the hold on the booking page and from the email."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import unit_of_work
from app.models import Booking, BookingStatus, OutboxMessage, Wish, WishStatus
from app.services import booking, links
from tests.factories import NOW, ctx
from tests.web.test_booking_flow import days_ahead, local_form_value

S = BookingStatus
START, END = days_ahead(3), days_ahead(3, 16)


@pytest.fixture(autouse=True)
def monday_morning(clock):
    return clock(NOW)


@pytest.fixture
def camera(make_resource, make_category):
    return make_resource(name="Caméra Sony", category=make_category(name="Caméra", needs_approval=True))


@pytest.fixture
def first(make_user):
    return make_user(display_name="Première")


@pytest.fixture
def taken(make_booking, camera, first):
    return make_booking(resource=camera, user=first, starts_at=START, ends_at=END)


@pytest.fixture
def lea(make_user):
    return make_user(display_name="Léa Membre")


def period() -> dict[str, str]:
    return {"starts_at": local_form_value(START), "ends_at": local_form_value(END)}


def wish_form_of(page: str) -> dict[str, str]:
    found = re.search(r'<form[^>]*action="/waitlist/new"[^>]*>(.*?)</form>', page, re.S)
    assert found, "no « Prévenez-moi » form"
    return dict(re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', found.group(1)))


def offer(session, taken_booking):
    with unit_of_work(session):
        booking.cancel(session, ctx(taken_booking.user), booking=session.get(Booking, taken_booking.id))
    session.expire_all()
    return session.scalar(select(Booking).where(Booking.status == S.PROPOSED))


def test_a_refused_slot_offers_prevenez_moi_and_the_wish_appears_on_my_bookings(
    client, auth, session, camera, taken, lea
):
    auth.login(lea)
    refused = client.post(f"/bookings/new?resource={camera.id}", data={**period(), "purpose": "Live"})
    page = refused.get_data(as_text=True)
    assert "Déjà réservé" in page and "Prévenez-moi si cela se libère" in page
    fields = wish_form_of(page)
    assert fields["resource"] == str(camera.id) and fields["purpose"] == "Live"

    done = client.post("/waitlist/new", data=fields, follow_redirects=True)

    assert done.status_code == 200
    mine = done.get_data(as_text=True)
    assert "C&#39;est noté" in mine or "C'est noté" in mine
    assert "Liste d&#39;attente" in mine or "Liste d'attente" in mine
    assert "Caméra Sony" in mine and "Ne plus attendre" in mine
    [wish] = session.scalars(select(Wish)).all()
    assert (wish.user_id, wish.resource_id, wish.starts_at, wish.ends_at) == (lea.id, camera.id, START, END)


@pytest.mark.parametrize(
    "tampered",
    [
        {"resource": "", "category": ""},
        {"resource": "abc"},
        {"starts_at": "demain"},
        {"ends_at": local_form_value(START - timedelta(hours=1))},
        {"starts_at": local_form_value(NOW - timedelta(days=2)), "ends_at": local_form_value(NOW - timedelta(days=1))},
        {"resource": "999999"},
    ],
)
def test_a_tampered_wish_gets_a_clear_message_and_stores_nothing(client, auth, session, camera, taken, lea, tampered):
    auth.login(lea)
    data = {"resource": str(camera.id), **period(), "purpose": ""} | tampered
    answer = client.post("/waitlist/new", data=data, follow_redirects=True)
    assert answer.status_code in (200, 400, 404)
    assert answer.status_code != 500
    if answer.status_code == 200:
        assert "alert-danger" in answer.get_data(as_text=True)
    assert session.scalars(select(Wish)).all() == []


def test_the_holder_confirms_a_hold_from_the_booking_page(client, auth, session, camera, taken, lea):
    auth.login(lea)
    client.post("/waitlist/new", data={"resource": str(camera.id), **period(), "purpose": ""})
    hold = offer(session, taken)
    page = client.get(f"/bookings/{hold.id}").get_data(as_text=True)
    assert "Proposée" in page and "Confirmer" in page and "Refuser ce créneau" in page

    answer = client.post(f"/waitlist/hold/{hold.id}/confirm", follow_redirects=True)

    assert "Demande envoyée" in answer.get_data(as_text=True)
    session.expire_all()
    assert session.get(Booking, hold.id).status is S.REQUESTED
    assert session.scalar(select(Wish)).status is WishStatus.CONFIRMED


def test_someone_else_cannot_answer_a_hold(client, auth, session, camera, taken, lea, make_user):
    auth.login(lea)
    client.post("/waitlist/new", data={"resource": str(camera.id), **period(), "purpose": ""})
    hold = offer(session, taken)
    auth.logout()
    auth.login(make_user())
    assert client.post(f"/waitlist/hold/{hold.id}/confirm").status_code in (403, 404)
    session.expire_all()
    assert session.get(Booking, hold.id).status is S.PROPOSED


def test_the_email_link_confirms_once_and_a_replayed_or_edited_link_says_so(client, session, camera, taken, lea):
    with unit_of_work(session):
        from app.services import waitlist

        waitlist.wish(session, ctx(lea), resource=camera, starts_at=START, ends_at=END)
    hold = offer(session, taken)
    [mail] = [m for m in session.scalars(select(OutboxMessage)) if m.key.endswith(":offered")]
    address = re.search(r"/a/[\w.\-]+", mail.body_text.split("Confirmer")[1]).group(0)
    assert address == "/a/" + links.sign(ctx(), booking=hold, user=lea, action="confirm-hold")

    look = client.get(address)
    assert look.status_code == 200 and "Prendre Caméra Sony" in look.get_data(as_text=True)
    assert session.get(Booking, hold.id).status is S.PROPOSED  # looking does nothing

    done = client.post(address)
    assert done.status_code == 200 and "Créneau confirmé" in done.get_data(as_text=True)
    session.expire_all()
    assert session.get(Booking, hold.id).status is S.REQUESTED

    again = client.post(address)
    assert again.status_code == 410 and "déjà servi" in again.get_data(as_text=True)
    edited = address[:-1] + ("A" if address[-1] != "A" else "B")
    assert client.get(edited).status_code == 400
