"""A member books, the host approves, hands over and takes back — through the pages."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.models import AuditEntry, Booking
from app.services import credentials
from tests.factories import NOW


def local_form_value(dt: datetime) -> str:
    from zoneinfo import ZoneInfo

    return dt.astimezone(ZoneInfo("Europe/Paris")).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture(autouse=True)
def monday_morning(clock):
    """Every page here runs at NOW (a Monday, 10:00 in Paris), whatever the wall clock says."""
    return clock(NOW)


def days_ahead(n: int, hour: int = 10) -> datetime:
    day = (NOW + timedelta(days=n)).date()
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_a_member_books_a_camera_and_the_host_approves_hands_over_and_takes_it_back(
    client, auth, session, make_user, make_category, make_resource
):
    cameras = make_category(name="Caméra", buffer_hours=12, min_lead_hours=0)
    camera = make_resource(name="Caméra de l'Aude", category=cameras, departement_code="11")
    host = make_user(display_name="Martin Hôte", hosts=("11",))
    member = make_user(display_name="Léa Membre", phone="06 00 00 00 00")
    start, end = days_ahead(0, 23), days_ahead(1, 20)

    auth.login(member)
    page = client.get(f"/bookings/new?resource={camera.id}").get_data(as_text=True)
    assert "Battement de 12 heures" in page
    response = client.post(
        f"/bookings/new?resource={camera.id}",
        data={"starts_at": local_form_value(start), "ends_at": local_form_value(end), "purpose": "Fête de la science"},
    )
    assert response.status_code == 302
    made = session.scalar(select(Booking))
    assert made.status == "requested" and made.starts_at == start
    assert "En attente" in client.get("/bookings/mine").get_data(as_text=True)
    auth.logout()

    auth.login(host)
    desk = client.get("/desk").get_data(as_text=True)
    assert "Demandes à valider" in desk and "Léa Membre" in desk and "Fête de la science" in desk
    assert client.post(f"/desk/bookings/{made.id}/approve").status_code == 302
    assert client.post(f"/desk/bookings/{made.id}/pickup", data={"note": "Sacoche complète"}).status_code == 302
    assert "Sorti en ce moment" in client.get("/desk").get_data(as_text=True)
    client.post(f"/desk/bookings/{made.id}/return", data={"condition": "ok", "note": ""})
    auth.logout()

    session.expire_all()
    assert session.get(Booking, made.id).status == "returned"
    auth.login(member)
    detail = client.get(f"/bookings/{made.id}").get_data(as_text=True)
    assert "Rendue" in detail and "Sacoche complète" in detail


def test_a_second_tab_submitting_the_same_booking_gets_a_clear_message(
    client, auth, session, make_user, make_resource, make_category
):
    camera = make_resource(category=make_category(min_lead_hours=0))
    auth.login(make_user())
    data = {"starts_at": local_form_value(days_ahead(2)), "ends_at": local_form_value(days_ahead(3)), "purpose": ""}
    assert client.post(f"/bookings/new?resource={camera.id}", data=data).status_code == 302
    again = client.post(f"/bookings/new?resource={camera.id}", data=data)
    assert again.status_code == 200
    assert "Déjà réservé sur cette période" in again.get_data(as_text=True)
    assert len(session.scalars(select(Booking)).all()) == 1


def test_bad_booking_input_gets_french_messages_and_stores_nothing(
    client, auth, session, make_user, make_resource, make_category
):
    camera = make_resource(category=make_category(min_lead_hours=0, max_advance_days=30))
    auth.login(make_user())
    cases = [
        (
            {"starts_at": local_form_value(days_ahead(3)), "ends_at": local_form_value(days_ahead(2))},
            "La fin doit venir après le début.",
        ),
        (
            {"starts_at": local_form_value(days_ahead(-2)), "ends_at": local_form_value(days_ahead(-1))},
            "Ce début est déjà passé.",
        ),
        ({"starts_at": local_form_value(days_ahead(40)), "ends_at": local_form_value(days_ahead(41))}, "Trop tôt"),
        ({"starts_at": "demain", "ends_at": ""}, "pas une date/heure valide"),
        ({"starts_at": "2027-03-28T02:30", "ends_at": "2027-03-29T10:00"}, "Cette heure n&#39;existe pas"),
    ]
    for data, message in cases:
        response = client.post(f"/bookings/new?resource={camera.id}", data=data)
        assert response.status_code == 200
        assert message in response.get_data(as_text=True), message
    assert session.scalars(select(Booking)).all() == []
    assert client.get("/bookings/new?resource=999999").status_code == 404
    assert client.get("/bookings/new?resource=abc").status_code == 404


def test_a_retired_resource_cannot_be_booked_from_the_page(client, auth, make_user, make_resource):
    retired = make_resource(retired_at=NOW - timedelta(days=1))
    auth.login(make_user())
    assert client.get(f"/bookings/new?resource={retired.id}").status_code == 404


def test_others_see_only_busy_and_cannot_open_someone_elses_booking(
    client, auth, make_user, make_resource, make_booking
):
    resource = make_resource(departement_code="11")
    owner = make_user(display_name="Titulaire Discrète")
    made = make_booking(
        resource=resource, user=owner, purpose="Projet secret", starts_at=days_ahead(3), ends_at=days_ahead(4)
    )
    auth.login(make_user())
    assert client.get(f"/bookings/{made.id}").status_code == 403
    week = client.get(f"/departements/11/week?start={days_ahead(3).date().isoformat()}").get_data(as_text=True)
    assert "occupé" in week and "Titulaire Discrète" not in week
    auth.logout()
    auth.login(make_user(hosts=("11",)))
    assert "Projet secret" in client.get(f"/bookings/{made.id}").get_data(as_text=True)
    week = client.get(f"/departements/11/week?start={days_ahead(3).date().isoformat()}").get_data(as_text=True)
    assert "Titulaire Discrète" in week


def test_a_host_gets_403_on_another_departements_desk_and_bookings(
    client, auth, session, make_user, make_resource, make_booking
):
    resource = make_resource(departement_code="31")
    made = make_booking(
        resource=resource, user=make_user(), status="requested", starts_at=days_ahead(3), ends_at=days_ahead(4)
    )
    auth.login(make_user(hosts=("34",)))
    assert client.get("/desk/31").status_code == 403
    assert client.get("/desk/31/blackouts").status_code == 403
    for action in ("approve", "reject", "pickup", "return", "no-show", "cancel"):
        assert (
            client.post(f"/desk/bookings/{made.id}/{action}", data={"reason": "x", "condition": "ok"}).status_code
            == 403
        )
    session.expire_all()
    assert session.get(Booking, made.id).status == "requested"
    assert client.get("/desk/99").status_code == 404


def test_members_do_not_reach_the_desk(client, auth, make_user):
    auth.login(make_user())
    assert client.get("/desk").status_code == 403


def test_an_account_reveals_its_login_only_inside_the_booking_window(
    app, client, auth, session, make_user, make_category, make_resource, make_booking
):
    category = make_category(needs_pickup=False, needs_approval=False)
    secret = credentials.encrypt(app.config["CREDENTIALS_KEY"], credentials.Credentials("zoom@example.org", "mot-zoom"))
    zoom = make_resource(category=category, credentials_encrypted=secret)
    member = make_user()
    now = NOW
    current = make_booking(
        resource=zoom, user=member, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1)
    )
    later = make_booking(
        resource=zoom, user=member, starts_at=now + timedelta(days=2), ends_at=now + timedelta(days=2, hours=2)
    )

    auth.login(member)
    page = client.get(f"/bookings/{current.id}").get_data(as_text=True)
    assert "mot-zoom" not in page and "Afficher les identifiants" in page
    shown = client.post(f"/bookings/{current.id}/credentials")
    assert shown.status_code == 200
    assert "mot-zoom" in shown.get_data(as_text=True)
    assert shown.headers["Cache-Control"] == "no-store"
    early = client.post(f"/bookings/{later.id}/credentials")
    assert early.status_code == 403 and "mot-zoom" not in early.get_data(as_text=True)
    auth.logout()

    auth.login(make_user(hosts=("31",)))
    refused = client.post(f"/bookings/{current.id}/credentials")
    assert refused.status_code == 403 and "mot-zoom" not in refused.get_data(as_text=True)
    reveals = session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("reveal%"))).all()
    assert sorted(reveals) == ["reveal-credentials", "reveal-refused", "reveal-refused"]


def test_a_kit_is_found_and_booked_from_the_kit_page(client, auth, session, make_user, make_category, make_resource):
    kits = make_category(name="Kit de streaming", min_lead_hours=0)
    make_resource(name="Kit Albi", category=kits, departement_code="81")
    auth.login(make_user(departement_code="81"))
    response = client.post(
        "/bookings/kit",
        data={
            "category": str(kits.id),
            "departement": "81",
            "starts_at": local_form_value(days_ahead(2)),
            "ends_at": local_form_value(days_ahead(3)),
        },
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Demande envoyée : Kit Albi, gardé dans le département 81 – Tarn." in page
    assert "Réservé" not in page and "hors de votre département" not in page
    response = client.post(
        "/bookings/kit",
        data={
            "category": str(kits.id),
            "departement": "",
            "starts_at": local_form_value(days_ahead(2)),
            "ends_at": local_form_value(days_ahead(3)),
        },
    )
    page = response.get_data(as_text=True)
    assert "Aucun exemplaire « Kit de streaming » n&#39;est libre" in page
    assert "Le plus tôt : Kit Albi (81 – Tarn), à partir du" in page


@pytest.mark.parametrize("action", ["cancel", "dates", "extend"])
def test_only_the_holder_or_a_host_changes_a_booking_through_the_pages(
    client, auth, session, make_user, make_resource, make_booking, action
):
    resource = make_resource(departement_code="11")
    made = make_booking(resource=resource, user=make_user(), starts_at=days_ahead(3), ends_at=days_ahead(4))
    period = {"starts_at": local_form_value(days_ahead(5)), "ends_at": local_form_value(days_ahead(6))}
    for outsider in (make_user(), make_user(hosts=("34",))):
        auth.login(outsider)
        assert client.post(f"/bookings/{made.id}/{action}", data=period).status_code == 403
        auth.logout()
    session.expire_all()
    kept = session.get(Booking, made.id)
    assert (kept.status, kept.starts_at, kept.ends_at) == ("approved", days_ahead(3), days_ahead(4))
    auth.login(make_user(hosts=("11",)))
    assert client.post(f"/bookings/{made.id}/{action}", data=period).status_code == 302
