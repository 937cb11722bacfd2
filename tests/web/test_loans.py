"""The receipt page (the borrower confirms, the host shows a QR code) and the printable loan form."""

import re
from datetime import timedelta

import pytest
import segno
from flask import render_template
from sqlalchemy import select

from app.models import AuditEntry, BookingStatus, Condition, Handover, HandoverKind, Organisation
from app.services.history import HistoryLine
from tests.factories import NOW

H = timedelta(hours=1)


@pytest.fixture(autouse=True)
def monday_morning(clock):
    """Every page here runs at NOW, whatever the wall clock says."""
    return clock(NOW)


@pytest.fixture
def host(make_user):
    return make_user(display_name="Inès Vidal", hosts=("11",))


@pytest.fixture
def holder(make_user, session):
    person = make_user(display_name="Camille Martin", phone="06 12 34 56 78")
    person.organisation = Organisation(name="Les Petits Débrouillards")
    session.commit()
    return person


@pytest.fixture
def camera(make_resource, make_category, make_pickup_point):
    make_pickup_point(
        departement_code="11", name="Local de Carcassonne", address="3 rue de Verdun", hours=[(0, "09:00", "12:00")]
    )
    return make_resource(
        name="Caméra Sony",
        category=make_category(name="Caméra"),
        departement_code="11",
        contents="caméra\n2 batteries\nchargeur",
        inventory_code="11-0042",
    )


@pytest.fixture
def loan(make_booking, camera, holder):
    return make_booking(
        resource=camera, user=holder, starts_at=NOW - 2 * H, ends_at=NOW + 48 * H, status=BookingStatus.PICKED_UP
    )


def handed_over(session, booking, host, *, kind=HandoverKind.PICKUP, checked=None, at=NOW - H, **values):
    handover = Handover(
        booking_id=booking.id,
        kind=kind,
        recorded_at=at,
        recorded_by_id=host.id,
        condition=values.pop("condition", Condition.OK),
        note=values.pop("note", ""),
        **values,
    )
    handover.checked = checked if checked is not None else booking.resource.contents_lines
    session.add(handover)
    session.commit()
    return handover


def test_the_holder_sees_what_was_handed_over_and_confirms_it_on_their_phone(client, auth, session, loan, host, holder):
    handover = handed_over(session, loan, host, checked=["caméra", "chargeur"], note="Sacoche rayée")
    auth.login(holder)
    page = client.get(f"/loans/{loan.id}").get_data(as_text=True)
    assert "Ce qui vous a été remis" in page and "Sacoche rayée" in page
    assert "2 batteries <strong>(manquant)</strong>" in page
    assert "Je confirme avoir reçu l'objet" in page
    assert "qr-code" not in page  # the holder has nothing to scan

    response = client.post(f"/loans/{loan.id}/confirm", data={"handover": handover.id})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/loans/{loan.id}")
    session.expire_all()
    assert session.get(Handover, handover.id).confirmed_at == NOW
    page = client.get(f"/loans/{loan.id}").get_data(as_text=True)
    assert "Camille Martin a confirmé avoir reçu l'objet le lundi 11 janvier 2027, 10\u00a0h\u00a000." in page
    assert "Je confirme" not in page


def test_the_host_sees_whether_it_is_confirmed_and_a_qr_code_of_the_receipt_page(client, auth, session, loan, host):
    handed_over(session, loan, host)
    auth.login(host)
    page = client.get(f"/loans/{loan.id}").get_data(as_text=True)
    assert "Camille Martin n'a pas encore confirmé." in page
    assert "Je confirme" not in page
    address = f"http://localhost/loans/{loan.id}"
    assert f'<span class="text-break" data-qr-address>{address}</span>' in page
    drawn = re.search(r'<svg viewBox="[^"]+" class="qr-code">.*?<path[^>]* d="([^"]+)"', page, re.S)
    assert drawn is not None
    expected = segno.make_qr(address, error="m").svg_inline(omitsize=True, border=4, lineclass=None)
    assert f'd="{drawn.group(1)}"' in expected  # the code drawn is that address, module for module


def test_a_host_posting_a_confirmation_is_refused(client, auth, session, loan, host):
    handover = handed_over(session, loan, host)
    auth.login(host)
    assert client.post(f"/loans/{loan.id}/confirm", data={"handover": handover.id}).status_code == 403
    session.expire_all()
    assert session.get(Handover, handover.id).confirmed_at is None
    assert session.scalar(select(AuditEntry)) is None


def test_a_handover_of_another_booking_is_not_found_through_this_one(
    client, auth, session, loan, host, holder, make_booking, camera
):
    other = make_booking(resource=camera, user=holder, starts_at=NOW + 72 * H, ends_at=NOW + 96 * H)
    handover = handed_over(session, other, host)
    auth.login(holder)
    assert client.post(f"/loans/{loan.id}/confirm", data={"handover": handover.id}).status_code == 404


def test_an_undone_handover_gives_a_message_not_an_error_page(client, auth, session, loan, host, holder):
    handover = handed_over(session, loan, host, undone_at=NOW - H / 2, undone_by_id=host.id)
    auth.login(holder)
    response = client.post(f"/loans/{loan.id}/confirm", data={"handover": handover.id}, follow_redirects=True)
    assert response.status_code == 200
    assert "L&#39;hôte a annulé cette saisie" in response.get_data(as_text=True)


def test_others_cannot_open_the_receipt_or_the_form(client, auth, loan, make_user):
    auth.login(make_user())
    assert client.get(f"/loans/{loan.id}").status_code == 403
    assert client.get(f"/loans/{loan.id}/form").status_code == 403
    auth.logout()
    auth.login(make_user(hosts=("34",)))
    assert client.get(f"/loans/{loan.id}/form").status_code == 403
    auth.logout()
    assert client.get(f"/loans/{loan.id}/form").status_code == 302  # to the login page


def test_the_loan_form_is_for_the_holder_the_hosts_and_admins(client, auth, session, loan, host, holder, make_user):
    handed_over(session, loan, host, confirmed_at=NOW - H / 2, confirmed_by_id=holder.id)
    handed_over(
        session,
        loan,
        host,
        kind=HandoverKind.RETURN,
        at=NOW,
        checked=["caméra", "chargeur"],
        condition=Condition.INCOMPLETE,
        note="Il manque une batterie.",
    )
    for reader in (holder, host, make_user(roles={"admin"})):
        auth.login(reader)
        page = client.get(f"/loans/{loan.id}/form").get_data(as_text=True)
        auth.logout()
        assert "Bon de prêt" in page and "data-print" in page and "css/loan-form.css" in page
        assert "Camille Martin" in page and "Les Petits Débrouillards" in page and "06 12 34 56 78" in page
        assert "Caméra Sony" in page and "11-0042" in page
        assert (
            "Local de Carcassonne" in page
            and "3 rue de Verdun" in page
            and "lundi : 9\u00a0h\u00a000 – 12\u00a0h\u00a000" in page
        )
        assert "Il manque une batterie." in page and "Incomplet" in page
        assert "Réception confirmée par Camille Martin le lundi 11 janvier 2027, 9\u00a0h\u00a030" in page
        assert "Pas encore confirmée par Camille Martin." in page  # the return
        assert "Signature de l'emprunteur·euse" in page
        assert f'href="/bookings/{loan.id}"' in page
        row = re.search(r"<td>2 batteries</td><td>(.*?)</td><td>(.*?)</td>", page)
        assert row is not None and "☑" in row.group(1) and "☒" in row.group(2)


def test_the_booking_page_part_gives_the_holder_the_button_and_the_host_the_state(app, session, loan, host, holder):
    handed_over(session, loan, host)
    with app.test_request_context():
        for_holder = render_template("loans/_receipt.html", booking=loan, current_user=holder)
        for_host = render_template("loans/_receipt.html", booking=loan, current_user=host)
    assert "Je confirme avoir reçu l'objet" in for_holder
    assert f'action="/loans/{loan.id}/confirm"' in for_holder and 'value="booking"' in for_holder
    assert "Je confirme" not in for_host
    assert "Pas encore confirmée par Camille Martin." in for_host
    assert f'href="/loans/{loan.id}/form"' in for_host


def test_a_photo_is_linked_only_where_the_desk_serves_photos(app, client, auth, session, loan, host, holder):
    handed_over(session, loan, host, photo="0123456789abcdef0123456789abcdef.jpg")
    auth.login(holder)
    page = client.get(f"/loans/{loan.id}").get_data(as_text=True)
    assert ("Voir la photo" in page) == ("desk.photo" in app.view_functions)


def test_the_history_part_shows_sentences(app):
    line = HistoryLine(
        at=NOW, text="Inès Vidal a remis l'objet à Camille Martin le lundi 11 janvier 2027 à 10\u00a0h\u00a000"
    )
    with app.test_request_context():
        html = render_template("macros/history.html", history=[line])
    assert "Historique" in html and "Inès Vidal a remis l&#39;objet à Camille Martin" in html
