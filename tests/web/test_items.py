"""Out of service, the holder's offer, label sheets and the now card — through the pages."""

import re
from datetime import timedelta

import pytest
import segno
from sqlalchemy import select

from app.db import unit_of_work
from app.models import Booking, BookingStatus, Condition, Handover, HandoverKind, OutboxMessage, OutOfService
from app.services import labels, maintenance
from tests.factories import NOW, ctx

S = BookingStatus


@pytest.fixture(autouse=True)
def monday_morning(clock):
    """Every page here runs at NOW (a Monday, 10:00 in Paris), whatever the wall clock says."""
    return clock(NOW)


def at(days: float = 0, hours: float = 0):
    return NOW + timedelta(days=days, hours=hours)


@pytest.fixture
def cameras(make_category):
    return make_category(name="Caméra", min_lead_hours=0)


@pytest.fixture
def camera(cameras, make_resource):
    return make_resource(name="Caméra de l'Hérault", category=cameras, departement_code="34", inventory_code="34-0007")


@pytest.fixture
def host(make_user):
    return make_user(display_name="Inès Hôte", hosts=("34",))


@pytest.fixture
def member(make_user):
    return make_user(display_name="Camille Membre", phone="06 12 34 56 78")


def put_out(session, who, resource, reason="Écran fêlé"):
    with unit_of_work(session):
        return maintenance.put_out_of_service(session, ctx(who), resource=resource, reason=reason)


def text(response) -> str:
    return response.get_data(as_text=True)


# Out of service --------------------------------------------------------------------------------


def test_a_damaged_return_proposes_out_of_service_with_its_note_and_a_confirmation(
    client, auth, session, camera, host, member, make_booking
):
    lent = make_booking(resource=camera, user=member, starts_at=at(-3), ends_at=at(-1), status=S.RETURNED)
    later = make_booking(resource=camera, user=member, starts_at=at(2), ends_at=at(3))
    handover = Handover(
        booking_id=lent.id,
        kind=HandoverKind.RETURN,
        recorded_at=at(-1),
        recorded_by_id=host.id,
        condition=Condition.DAMAGED,
        note="Écran fêlé",
    )
    session.add(handover)
    session.commit()
    auth.login(host)
    page = text(client.get(f"/items/handovers/{handover.id}/out-of-service"))
    assert "Mettre hors service ?" in page
    assert re.search(r"<textarea[^>]*name=\"reason\"[^>]*>\s*Écran fêlé</textarea>", page)
    assert 'data-confirm="Mettre « Caméra de l&#39;Hérault » hors service ?"' in page
    assert "Camille Membre" in page  # whose booking it falls on

    response = client.post(f"/items/handovers/{handover.id}/out-of-service", data={"reason": "Écran fêlé"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/items/{camera.id}")
    period = session.scalar(select(OutOfService))
    assert (period.handover_id, period.reason, period.starts_at) == (handover.id, "Écran fêlé", NOW)
    mail = session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == member.email))
    assert f"/items/bookings/{later.id}/alternatives" in mail.body_text

    detail = text(client.get(f"/items/{camera.id}"))
    assert "Hors service depuis le lundi 11 janvier 2027 — Écran fêlé" in detail
    assert "Camille Membre" in detail and "06 12 34 56 78" in detail
    assert "Remettre en service" in detail and "data-confirm" in detail


def test_only_the_items_hosts_and_admins_reach_its_out_of_service_form_and_detail(
    client, auth, session, camera, make_user
):
    auth.login(make_user(hosts=("11",)))
    assert client.get(f"/items/{camera.id}/out-of-service").status_code == 403
    assert client.post(f"/items/{camera.id}/out-of-service", data={"reason": "Non"}).status_code == 403
    assert client.get(f"/items/{camera.id}").status_code == 403
    assert session.scalars(select(OutOfService)).all() == []
    auth.logout()
    auth.login(make_user(roles={"admin"}))
    assert client.get(f"/items/{camera.id}").status_code == 200


def test_a_second_out_of_service_is_refused_with_a_message(client, auth, session, camera, host):
    put_out(session, host, camera)
    auth.login(host)
    page = text(client.get(f"/items/{camera.id}/out-of-service"))
    assert "Hors service depuis le" in page and 'name="reason"' not in page
    again = client.post(f"/items/{camera.id}/out-of-service", data={"reason": "Autre"})
    assert again.status_code == 200 and "déjà hors service" in text(again)
    assert len(session.scalars(select(OutOfService)).all()) == 1


def test_an_empty_reason_is_shown_next_to_the_field(client, auth, session, camera, host):
    auth.login(host)
    response = client.post(f"/items/{camera.id}/out-of-service", data={"reason": ""})
    assert response.status_code == 200 and "invalid-feedback" in text(response)
    assert session.scalars(select(OutOfService)).all() == []


def test_the_host_keeps_the_repair_log_and_puts_the_item_back_in_service(client, auth, session, camera, host):
    period = put_out(session, host, camera)
    auth.login(host)
    response = client.post(f"/items/{camera.id}", data={"note": "Écran commandé chez le fabricant"})
    assert response.status_code == 302
    assert "Écran commandé chez le fabricant" in text(client.get(f"/items/{camera.id}"))
    empty = client.post(f"/items/{camera.id}", data={"note": ""})
    assert empty.status_code == 200 and "invalid-feedback" in text(empty)

    assert client.post(f"/items/periods/{period.id}/back-in-service").status_code == 302
    session.expire_all()
    assert session.get(OutOfService, period.id).ends_at == NOW + timedelta(seconds=1)
    assert "En service" in text(client.get(f"/items/{camera.id}"))


def test_the_catalogue_says_the_state_in_words(client, session, camera, cameras, host, make_resource):
    make_resource(name="Caméra du Tarn", category=cameras, departement_code="81")
    put_out(session, host, camera)
    page = text(client.get("/resources"))
    assert "Hors service depuis le lundi 11 janvier 2027 — Écran fêlé" in page
    assert page.count("En service") == 1


# The holder's offer ------------------------------------------------------------------------------


def test_the_holder_is_offered_the_nearest_free_unit_and_takes_it_in_one_tap(
    client, auth, session, camera, cameras, host, member, make_resource, make_booking
):
    held = make_booking(resource=camera, user=member, starts_at=at(2), ends_at=at(3))
    far = make_resource(name="Caméra des Hautes-Pyrénées", category=cameras, departement_code="65")
    near = make_resource(name="Caméra du Tarn", category=cameras, departement_code="81")
    put_out(session, host, camera)
    auth.login(member)
    page = text(client.get(f"/items/bookings/{held.id}/alternatives"))
    assert page.index("Caméra du Tarn") < page.index("Caméra des Hautes-Pyrénées")
    assert "Stock 81" in page and "81 – Tarn" in page
    assert "Gardé dans un autre département" in page
    assert page.count("Prendre celui-ci") == 2
    assert 'data-confirm="Annuler votre réservation du' in page

    response = client.post(f"/items/bookings/{held.id}/swap", data={"resource": str(near.id)})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/bookings/{held.id}")
    session.expire_all()
    assert session.get(Booking, held.id).resource_id == near.id
    assert far.id != near.id


def test_a_unit_taken_meanwhile_gives_a_message_not_an_error_page(
    client, auth, session, camera, cameras, host, member, make_user, make_resource, make_booking
):
    held = make_booking(resource=camera, user=member, starts_at=at(2), ends_at=at(3))
    other = make_resource(name="Caméra du Tarn", category=cameras, departement_code="81")
    put_out(session, host, camera)
    make_booking(resource=other, user=make_user(), starts_at=at(2), ends_at=at(3))
    auth.login(member)
    response = client.post(f"/items/bookings/{held.id}/swap", data={"resource": str(other.id)}, follow_redirects=True)
    assert response.status_code == 200 and "est déjà réservé à ces dates" in text(response)
    session.expire_all()
    assert session.get(Booking, held.id).resource_id == camera.id


def test_the_holder_may_cancel_from_the_offer(client, auth, session, camera, host, member, make_booking):
    held = make_booking(resource=camera, user=member, starts_at=at(2), ends_at=at(3))
    put_out(session, host, camera)
    auth.login(member)
    assert client.post(f"/items/bookings/{held.id}/cancel").status_code == 302
    session.expire_all()
    assert session.get(Booking, held.id).status == S.CANCELLED


def test_nobody_but_the_holder_sees_the_offer_or_swaps(
    client, auth, session, camera, cameras, host, member, make_user, make_resource, make_booking
):
    held = make_booking(resource=camera, user=member, starts_at=at(2), ends_at=at(3))
    other = make_resource(category=cameras, departement_code="34")
    put_out(session, host, camera)
    auth.login(make_user())
    assert client.get(f"/items/bookings/{held.id}/alternatives").status_code == 403
    assert client.post(f"/items/bookings/{held.id}/swap", data={"resource": str(other.id)}).status_code == 403
    assert client.post(f"/items/bookings/{held.id}/cancel").status_code == 403
    session.expire_all()
    assert session.get(Booking, held.id).resource_id == camera.id and session.get(Booking, held.id).status == S.APPROVED


# Labels and the now card --------------------------------------------------------------------------


def test_the_label_sheet_has_every_item_once_with_the_qr_code_of_its_now_card(
    client, auth, session, camera, cameras, host, make_resource
):
    second = make_resource(name="Trépied", category=cameras, departement_code="34", inventory_code="34-0008")
    make_resource(name="Caméra du Tarn", category=cameras, departement_code="81", inventory_code="81-0001")
    auth.login(host)
    page = text(client.get("/items/labels/34"))
    assert "css/labels.css" in page and "data-print" in page and "Imprimer" in page
    assert page.count('class="item-label"') == 2
    for item in (camera, second):
        assert page.count(f'data-resource="{item.id}"') == 1
        assert item.inventory_code in page
        url = f"http://localhost/items/{item.id}/now"
        assert segno.make(url, error=labels.QR_ERROR).svg_inline(**labels.SVG_OPTIONS) in page
    assert "81-0001" not in page


def test_a_host_of_another_departement_cannot_print_its_labels(client, auth, camera, make_user):
    auth.login(make_user(hosts=("81",)))
    assert client.get("/items/labels/34").status_code == 403


def test_a_visitor_scanning_a_label_is_asked_to_log_in(client, camera):
    response = client.get(f"/items/{camera.id}/now")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_items_host_scanning_its_label_can_hand_it_over(client, auth, camera, host, member, make_booking):
    soon = make_booking(resource=camera, user=member, starts_at=at(0, 2), ends_at=at(2))
    auth.login(host)
    page = text(client.get(f"/items/{camera.id}/now"))
    assert "Camille Membre" in page and "06 12 34 56 78" in page
    assert f'action="/desk/bookings/{soon.id}/pickup"' in page and "Remis" in page
    assert f"/items/{camera.id}/out-of-service" in page and "Signaler un problème" in page


def test_the_items_host_sees_rendu_for_the_loan_under_way(client, auth, camera, host, member, make_booking):
    lent = make_booking(resource=camera, user=member, starts_at=at(-1), ends_at=at(1), status=S.PICKED_UP)
    auth.login(host)
    page = text(client.get(f"/items/{camera.id}/now"))
    assert f'action="/desk/bookings/{lent.id}/return"' in page and "Rendu" in page


def test_a_host_of_another_departement_gets_a_read_only_card(client, auth, camera, member, make_user, make_booking):
    make_booking(resource=camera, user=member, starts_at=at(-1), ends_at=at(1), status=S.PICKED_UP)
    auth.login(make_user(hosts=("81",)))
    page = text(client.get(f"/items/{camera.id}/now"))
    assert "Caméra de l&#39;Hérault" in page and "34-0007" in page and "Emprunté en ce moment" in page
    assert "Camille Membre" not in page and "/desk/bookings/" not in page and "Signaler un problème" not in page
