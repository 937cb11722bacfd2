"""The host's desk through its pages: handovers, photos, confirmations, undo, what is late and what comes."""

import io
import re
from datetime import timedelta

import pytest
from flask import url_for
from PIL import Image
from sqlalchemy import select

from app.models import Booking, Handover
from tests.factories import NOW, PASSWORD

MIN = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)


@pytest.fixture(autouse=True)
def monday_morning(clock):
    return clock(NOW)  # Monday 11 January 2027, 10:00 in Paris


@pytest.fixture(autouse=True)
def upload_folder(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))
    return tmp_path


@pytest.fixture
def host(make_user):
    return make_user(display_name="Inès Vidal", hosts=("31",))


@pytest.fixture
def member(make_user):
    return make_user(display_name="Camille Martin", phone="06 12 34 56 78", email="camille@example.org")


@pytest.fixture
def kit(make_resource):
    return make_resource(name="Kit vidéo", departement_code="31", contents="Caméra\n2 batteries\nChargeur")


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (30, 20), (10, 120, 200)).save(out, format="JPEG", comment=b"<script>x</script>")
    return out.getvalue()


def desk_page(client) -> str:
    return client.get("/desk").get_data(as_text=True)


def form_for(page: str, action: str) -> str:
    """The <form …> … </form> posting to `action` (the first one)."""
    found = re.search(rf'<form[^>]*action="{re.escape(action)}"[^>]*>.*?</form>', page, re.S)
    assert found, f"no form posting to {action}"
    return found.group(0)


def test_refusing_a_request_and_a_no_show_ask_before_they_submit(
    client, auth, host, member, kit, make_booking, make_resource
):
    asked = make_booking(
        resource=make_resource(departement_code="31"),
        user=member,
        starts_at=NOW + 3 * D,
        ends_at=NOW + 4 * D,
        status="requested",
    )
    due = make_booking(resource=kit, user=member, starts_at=NOW - H, ends_at=NOW + D)
    auth.login(host)
    page = desk_page(client)
    reject = form_for(page, f"/desk/bookings/{asked.id}/reject")
    assert "data-confirm=" in reject and "Refuser" in reject
    no_show = form_for(page, f"/desk/bookings/{due.id}/no-show")
    assert "data-confirm=" in no_show and "Non retiré" in no_show
    pickup = form_for(page, f"/desk/bookings/{due.id}/pickup")
    assert "data-confirm" not in pickup and "Non retiré" not in pickup  # separate forms, separate rows
    assert "onsubmit" not in page and "onclick" not in page


def test_remis_rendu_and_non_retire_are_distinct_actions_with_an_icon_and_a_word(
    client, auth, host, member, kit, make_booking, make_resource
):
    due = make_booking(resource=kit, user=member, starts_at=NOW - H, ends_at=NOW + D)
    back = make_booking(
        resource=make_resource(departement_code="31"),
        user=member,
        starts_at=NOW - D,
        ends_at=NOW + 5 * H,
        status="picked_up",
    )
    auth.login(host)
    page = desk_page(client)

    def button(form: str, word: str) -> str:
        found = re.search(rf'<button[^>]*class="([^"]*)"[^>]*>\s*(<svg.*?</svg>)\s*{word}\s*</button>', form, re.S)
        assert found, f"no button with an icon and the word {word}"
        return found.group(1)

    remis = button(form_for(page, f"/desk/bookings/{due.id}/pickup"), "Remis")
    non_retire = button(form_for(page, f"/desk/bookings/{due.id}/no-show"), "Non retiré")
    rendu = button(form_for(page, f"/desk/bookings/{back.id}/return"), "Rendu")
    assert "btn-primary" in remis and "btn-success" in rendu and "btn-outline-secondary" in non_retire
    assert "https://" not in "".join(re.findall(r"<svg.*?</svg>", page, re.S))  # drawn here, from no CDN


def test_the_week_link_cannot_be_read_as_a_week_number(client, auth, host):
    auth.login(host)
    page = desk_page(client)
    assert "Planning de la semaine — 31 Haute-Garonne" in page
    assert not re.search(r">\s*Semaine\s+31\s*<", page)


def test_the_pickup_and_return_forms_show_the_contents_as_checkboxes_and_the_condition(
    client, auth, host, member, kit, make_booking, make_resource
):
    due = make_booking(resource=kit, user=member, starts_at=NOW - H, ends_at=NOW + 2 * H)
    other = make_resource(departement_code="31", contents="Micro\nBonnette")
    back = make_booking(resource=other, user=member, starts_at=NOW - D, ends_at=NOW + 5 * H, status="picked_up")
    auth.login(host)
    page = desk_page(client)
    pickup = form_for(page, f"/desk/bookings/{due.id}/pickup")
    for line in ("Caméra", "2 batteries", "Chargeur"):
        assert f'type="checkbox" name="checked" value="{line}"' in pickup
    assert 'enctype="multipart/form-data"' in pickup and 'type="file" name="photo"' in pickup
    give_back = form_for(page, f"/desk/bookings/{back.id}/return")
    assert 'value="Micro"' in give_back and 'value="Bonnette"' in give_back
    for value in ("ok", "incomplete", "damaged"):
        assert f'type="radio" name="condition" value="{value}"' in give_back


def test_a_pickup_through_the_page_keeps_the_ticked_lines_and_a_clean_photo(
    client, auth, session, host, member, kit, make_booking, make_user, upload_folder
):
    due = make_booking(resource=kit, user=member, starts_at=NOW - H, ends_at=NOW + D)
    auth.login(host)
    response = client.post(
        f"/desk/bookings/{due.id}/pickup",
        data={
            "checked": ["Caméra", "2 batteries"],
            "condition": "incomplete",
            "note": "",
            "photo": (io.BytesIO(jpeg()), "IMG_0042.jpg"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "Remis à Camille Martin." in response.get_data(as_text=True)
    assert "Manque : Chargeur." in response.get_data(as_text=True)
    handover = session.scalar(select(Handover))
    assert handover.checked == ["Caméra", "2 batteries"] and handover.condition == "incomplete"
    assert [p.name for p in upload_folder.iterdir()] == [handover.photo] and handover.photo != "IMG_0042.jpg"

    shown = client.get(f"/desk/photos/{handover.photo}")
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg" and b"<script" not in shown.data
    assert shown.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/desk/photos/ffffffffffffffffffffffffffffffff.jpg").status_code == 404
    assert client.get("/desk/photos/secret_key").status_code == 404
    auth.logout()
    auth.login(member)
    assert client.get(f"/desk/photos/{handover.photo}").status_code == 200
    auth.logout()
    auth.login(make_user())
    assert client.get(f"/desk/photos/{handover.photo}").status_code == 403


def test_a_file_that_is_not_a_photo_is_refused_with_a_message_and_nothing_is_kept(
    client, auth, session, host, member, kit, make_booking, upload_folder
):
    due = make_booking(resource=kit, user=member, starts_at=NOW - H, ends_at=NOW + D)
    auth.login(host)
    response = client.post(
        f"/desk/bookings/{due.id}/pickup",
        data={
            "checked": ["Caméra"],
            "condition": "incomplete",
            "photo": (io.BytesIO(b"<svg><script>x</script></svg>"), "photo.jpg"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "pas une photo JPEG, PNG ou WebP" in response.get_data(as_text=True)
    assert list(upload_folder.iterdir()) == []
    session.expire_all()
    assert session.get(Booking, due.id).status == "approved" and session.scalar(select(Handover)) is None


def test_an_oversize_photo_gets_a_message(app, client, auth, session, host, member, kit, make_booking, monkeypatch):
    monkeypatch.setitem(app.config, "PHOTO_MAX_BYTES", 200)
    due = make_booking(resource=kit, user=member, starts_at=NOW - H, ends_at=NOW + D)
    auth.login(host)
    response = client.post(
        f"/desk/bookings/{due.id}/pickup",
        data={
            "checked": ["Caméra"],
            "condition": "incomplete",
            "photo": (io.BytesIO(jpeg() + b"\0" * 500), "photo.jpg"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "Photo trop lourde" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Booking, due.id).status == "approved"


def test_the_undo_button_shows_only_to_the_host_who_acted_and_only_for_15_minutes(
    client, auth, clock, host, member, kit, make_booking, make_user
):
    due = make_booking(resource=kit, user=member, starts_at=NOW - H, ends_at=NOW + D)
    auth.login(host)
    client.post(f"/desk/bookings/{due.id}/pickup", data={"checked": ["Caméra", "2 batteries", "Chargeur"]})
    undo = f'action="/desk/bookings/{due.id}/undo"'
    clock(NOW + 15 * MIN)
    page = desk_page(client)
    assert undo in page and "Annuler ce geste" in page and "Remis à Camille Martin" in page
    clock(NOW + 16 * MIN)
    assert undo not in desk_page(client)
    auth.logout()
    clock(NOW + MIN)
    auth.login(make_user(hosts=("31",)))
    assert undo not in desk_page(client)


def test_a_host_undoes_a_mis_tapped_no_show_from_the_desk(
    client, auth, session, clock, host, member, kit, make_booking
):
    due = make_booking(resource=kit, user=member, starts_at=NOW - H, ends_at=NOW + D)
    auth.login(host)
    client.post(f"/desk/bookings/{due.id}/no-show")
    clock(NOW + 5 * MIN)
    page = client.post(f"/desk/bookings/{due.id}/undo", follow_redirects=True).get_data(as_text=True)
    assert "Annulé : la réservation est de nouveau « Validée »." in page
    session.expire_all()
    assert session.get(Booking, due.id).status == "approved"


def test_an_undo_too_late_says_why(client, auth, session, clock, host, member, kit, make_booking):
    due = make_booking(resource=kit, user=member, starts_at=NOW - H, ends_at=NOW + D)
    auth.login(host)
    client.post(f"/desk/bookings/{due.id}/pickup", data={"checked": ["Caméra", "2 batteries", "Chargeur"]})
    clock(NOW + 20 * MIN)
    page = client.post(f"/desk/bookings/{due.id}/undo", follow_redirects=True).get_data(as_text=True)
    assert "Trop tard pour annuler" in page
    session.expire_all()
    assert session.get(Booking, due.id).status == "picked_up"


def test_late_items_show_days_late_in_words_and_how_to_reach_the_holder(
    client, auth, host, member, kit, make_booking, make_resource
):
    make_booking(resource=kit, user=member, starts_at=NOW - 5 * D, ends_at=NOW - 3 * D - H, status="picked_up")
    make_booking(
        resource=make_resource(departement_code="31"),
        user=member,
        starts_at=NOW - 2 * D,
        ends_at=NOW - D - H,
        status="picked_up",
    )
    auth.login(host)
    page = desk_page(client)
    late = page[page.index("Retours en retard") : page.index("Demandes à valider")]
    assert "3 jours de retard" in late and "1 jour de retard" in late
    assert 'href="tel:0612345678"' in late and "06 12 34 56 78" in late
    assert 'href="mailto:camille@example.org"' in late


def test_pickups_of_the_next_14_days_are_listed_not_only_this_weeks(
    client, auth, host, member, make_booking, make_resource
):
    for days, name in ((3, "Dans trois jours"), (10, "Dans dix jours"), (14, "Dans quatorze jours"), (16, "Trop loin")):
        make_booking(
            resource=make_resource(name=name, departement_code="31"),
            user=member,
            starts_at=NOW + days * D,
            ends_at=NOW + (days + 1) * D,
        )
    auth.login(host)
    page = desk_page(client)
    upcoming = page[page.index("Retraits des 14 prochains jours") :]
    assert "Dans trois jours" in upcoming and "Dans dix jours" in upcoming and "Dans quatorze jours" in upcoming
    assert "Trop loin" not in page


def test_a_return_ok_goes_back_to_the_desk(client, auth, session, host, member, kit, make_booking):
    out = make_booking(resource=kit, user=member, starts_at=NOW - D, ends_at=NOW + H, status="picked_up")
    auth.login(host)
    response = client.post(
        f"/desk/bookings/{out.id}/return", data={"checked": ["Caméra", "2 batteries", "Chargeur"], "condition": "ok"}
    )
    assert response.headers["Location"].endswith("/desk")
    session.expire_all()
    assert session.get(Booking, out.id).condition == "ok"


def test_a_damaged_return_leads_to_the_out_of_service_proposal_once_that_page_exists(
    make_app, session, host, member, kit, make_booking
):
    other = make_app(FIXED_NOW=NOW)
    if "items.propose_out_of_service" not in other.view_functions:
        other.add_url_rule(
            "/items/handovers/<int:handover_id>/out-of-service",
            endpoint="items.propose_out_of_service",
            view_func=lambda handover_id: "proposal",
        )
    out = make_booking(resource=kit, user=member, starts_at=NOW - D, ends_at=NOW + H, status="picked_up")
    client = other.test_client()
    client.post("/login", data={"email": host.email, "password": PASSWORD})
    response = client.post(
        f"/desk/bookings/{out.id}/return", data={"checked": ["Caméra", "2 batteries"], "condition": "incomplete"}
    )
    session.rollback()  # end the test's read transaction: the other app wrote after it began
    handover = session.scalar(select(Handover))
    assert handover.condition == "incomplete"  # the charger was not ticked
    with other.test_request_context():
        proposal = url_for("items.propose_out_of_service", handover_id=handover.id)
    assert response.headers["Location"].endswith(proposal)
