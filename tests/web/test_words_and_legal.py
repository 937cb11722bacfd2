"""French and English as a reader expects them, the legal pages, leaving, and the small rules a
person trips on (issue 16)."""

import html
import logging
import re
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from app import config
from app.models import Blackout, Enrolment, EnrolmentStatus, Organisation, User
from app.services import mail
from tests.factories import NOW, PASSWORD

CATALOGUE_EN = Path(__file__).resolve().parents[2] / "app" / "translations" / "en" / "LC_MESSAGES" / "messages.po"


def text(response) -> str:
    """The page as a reader reads it: tags out, entities decoded, white space folded."""
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split()))


# The legal pages and leaving ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/mentions-legales", "Mentions légales"),
        ("/confidentialite", "Combien de temps"),
        ("/accessibilite", "RGAA"),
    ],
)
def test_the_legal_pages_are_open_to_everyone(client, path, says):
    response = client.get(path)
    assert response.status_code == 200 and says in text(response)


def test_a_member_deletes_their_account_and_can_no_longer_log_in(client, auth, session, make_user):
    member = make_user(display_name="Léa Fabre", email="lea@example.org")
    auth.login(member)
    page = text(client.get("/account/delete"))
    assert "Vos réservations et inscriptions passées restent, sans votre nom" in page
    refused = client.post("/account/delete", data={"password": "pas-le-bon-mot-de-passe"})
    assert "Le mot de passe est incorrect." in text(refused)
    response = client.post("/account/delete", data={"password": PASSWORD})
    assert response.status_code == 302
    session.expire_all()
    gone = session.get(User, member.id)
    assert gone.display_name != "Léa Fabre" and "lea@example.org" not in gone.email and not gone.active
    assert client.post("/login", data={"email": "lea@example.org", "password": PASSWORD}).status_code == 200


def test_the_deletion_page_says_what_must_end_first(client, auth, make_user, make_resource, make_booking):
    member = make_user()
    make_booking(
        resource=make_resource(), user=member, starts_at=NOW + timedelta(days=3), ends_at=NOW + timedelta(days=4)
    )
    auth.login(member)
    page = text(client.get("/account/delete"))
    assert "Pas encore possible" in page and "1 réservation en cours ou à venir" in page
    assert 'name="password"' not in page


# Registration: consent and a structure not in the list -----------------------------------------

REGISTRATION = {
    "email": "nina@example.org",
    "display_name": "Nina Nouvelle",
    "organisation": "0",
    "departement": "46",
    "password": "un-mot-de-passe-long",
    "confirm": "un-mot-de-passe-long",
}


def test_registration_asks_for_consent_and_links_the_privacy_page(client, session):
    page = client.get("/register").get_data(as_text=True)
    assert 'href="/confidentialite"' in page and 'name="consent"' in page
    refused = client.post("/register", data=REGISTRATION)
    assert refused.status_code == 200 and "Cochez cette case pour créer votre compte." in text(refused)
    assert session.scalar(select(User).where(User.email == "nina@example.org")) is None


def test_a_structure_typed_in_at_registration_waits_for_an_admin_before_others_see_it(client, auth, session, make_user):
    data = {**REGISTRATION, "consent": "y", "new_organisation": "Les Petits Débrouillards du Lot"}
    assert client.post("/register", data=data).status_code == 302
    typed_in = session.scalar(select(Organisation).where(Organisation.name == "Les Petits Débrouillards du Lot"))
    assert typed_in is not None and not typed_in.confirmed
    assert "Les Petits Débrouillards du Lot" not in text(client.get("/register"))

    auth.login(make_user(roles={"admin"}))
    listed = text(client.get("/admin/users?show=pending"))
    assert "Nouvelle structure" in listed
    client.post(f"/admin/organisations/{typed_in.id}/confirm", data={})
    session.expire_all()
    assert session.get(Organisation, typed_in.id).confirmed
    auth.logout()
    assert "Les Petits Débrouillards du Lot" in text(client.get("/register"))


# Lists, pages and rules ---------------------------------------------------------------------------


def test_the_admin_list_of_people_is_in_french_order(client, auth, make_user):
    auth.login(make_user(roles={"admin"}, display_name="Aaron Admin"))
    for name in ("Zoé Martin", "Émile Delpech", "eva Roux"):
        make_user(display_name=name)
    page = text(client.get("/admin/users"))
    assert page.index("Émile Delpech") < page.index("eva Roux") < page.index("Zoé Martin")


def test_the_outbox_opens_on_a_tab_with_something_in_it(client, auth, session, make_user):
    from app.db import unit_of_work
    from app.services import outbox

    with unit_of_work(session):
        outbox.queue(session, key="t:1", to="a@example.org", subject="Rappel parti", body_text="b", now=NOW)
    auth.login(make_user(roles={"admin"}))
    page = text(client.get("/admin/outbox"))
    assert "Rappel parti" in page and "En attente d'envoi — 1 e-mail" in page
    assert "Aucun e-mail envoyé." in text(client.get("/admin/outbox?status=sent"))


def test_a_catalogue_page_beyond_the_last_says_so_and_leads_back(client, make_resource):
    make_resource()
    page = text(client.get("/resources?page=99"))
    assert "La page 99 n'existe pas : la liste tient en 1 page." in page
    assert "Aller à la dernière page" in page


def test_a_visitor_sent_to_log_in_is_told_why(client):
    page = text(client.get("/login?next=/bookings/new?resource=1"))
    assert "Pour réserver, connectez-vous avec votre compte du réseau." in page
    assert "Pour réserver" not in text(client.get("/login"))


def test_the_reminder_choices_are_check_boxes_not_a_bulleted_list(client, auth, make_user):
    auth.login(make_user())
    page = client.get("/account").get_data(as_text=True)
    start = page.index('id="reminders"')
    group = page[start : page.index("</div></div>", start)]
    assert 'class="form-check"' in group and "<ul" not in group and "<li" not in group


def test_a_category_rule_written_in_days_is_shown_and_edited_in_days(client, auth, make_user, make_category):
    week = make_category(max_duration_hours=24 * 7, min_lead_hours=36)
    auth.login(make_user(roles={"admin"}))
    page = client.get(f"/admin/categories/{week.id}/edit").get_data(as_text=True)
    assert 'name="max_duration" type="number" value="7"' in page or 'value="7"' in page
    assert '<option selected value="days">' in page and '<option selected value="hours">' in page


# Trainings ---------------------------------------------------------------------------------------


def test_a_trainer_is_not_offered_a_seat_in_her_own_session(client, auth, clock, make_user, make_training):
    clock(NOW)
    trainer = make_user(roles={"trainer"})
    own = make_training(trainer=trainer, capacity=8)
    auth.login(trainer)
    page = text(client.get(f"/trainings/{own.id}"))
    assert "Vous animez cette session." in page and "M'inscrire" not in page
    assert "8 places restantes (8 places en tout)" in page


def test_after_the_session_a_seat_nobody_ticked_reads_absent(client, auth, clock, session, make_user, make_training):
    trainer, member = make_user(roles={"trainer"}), make_user()
    held = make_training(trainer=trainer, starts_at=NOW - timedelta(days=2))
    session.add(
        Enrolment(
            session_id=held.id,
            user_id=member.id,
            status=EnrolmentStatus.REGISTERED,
            queued_at=NOW - timedelta(days=9),
            created_at=NOW - timedelta(days=9),
            updated_at=NOW - timedelta(days=9),
        )
    )
    session.commit()
    clock(NOW)
    auth.login(trainer)
    assert "Absent·e" in text(client.get(f"/trainings/{held.id}/participants"))
    auth.logout()
    auth.login(member)
    assert "Absent·e" in text(client.get("/trainings/mine"))


def test_my_trainings_list_the_next_session_first(client, auth, clock, session, make_user, make_training):
    member = make_user()
    titles = {"Dans un mois": 30, "Demain": 1, "La semaine passée": -7}
    for title, days in titles.items():
        found = make_training(title=title, starts_at=NOW + timedelta(days=days))
        session.add(
            Enrolment(
                session_id=found.id,
                user_id=member.id,
                status=EnrolmentStatus.REGISTERED,
                queued_at=NOW - timedelta(days=20),
                created_at=NOW - timedelta(days=20),
                updated_at=NOW - timedelta(days=20),
            )
        )
    session.commit()
    clock(NOW)
    auth.login(member)
    page = text(client.get("/trainings/mine"))
    assert page.index("Demain") < page.index("Dans un mois") < page.index("Passées") < page.index("La semaine passée")


# Closures ----------------------------------------------------------------------------------------


def test_a_closure_refused_for_bookings_names_them(
    client, auth, clock, session, make_user, make_resource, make_booking
):
    clock(NOW)
    host = make_user(hosts=("31",))
    camera = make_resource(name="Caméra Sony n°1", departement_code="31")
    booked = make_booking(
        resource=camera,
        user=make_user(display_name="Léa Fabre"),
        starts_at=NOW + timedelta(days=3),
        ends_at=NOW + timedelta(days=4),
    )
    auth.login(host)
    page = client.get("/desk/31/blackouts").get_data(as_text=True)
    assert page
    response = client.post(
        "/desk/31/blackouts",
        data={
            "resource": "",
            "starts_at": (NOW + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (NOW + timedelta(days=6)).strftime("%Y-%m-%dT%H:%M"),
            "reason": "Congés",
        },
    )
    said = text(response)
    assert f"n° {booked.id}, Caméra Sony n°1 pour Léa Fabre" in said
    assert session.scalar(select(Blackout)) is None


# English ------------------------------------------------------------------------------------------


def test_no_english_string_puts_a_space_before_a_colon():
    with CATALOGUE_EN.open("rb") as po:
        catalogue = read_po(po)
    spaced = []
    for message in catalogue:
        translations = message.string if isinstance(message.string, tuple) else (message.string,)
        spaced += [t for t in translations if t and any(f"{space}:" in t for space in (" ", "\u00a0", "\u202f"))]
    assert spaced == []


def test_an_english_reader_sees_english_names_and_no_french_colon(
    client, auth, make_user, make_category, make_resource
):
    cameras = make_category(name="Caméra", name_plural="Caméras", name_en="Camera", name_plural_en="Cameras")
    mics = make_category(name="Micro", name_plural="Micros")
    camera = make_resource(category=cameras, inventory_code="CAM-01")
    make_resource(category=mics)
    auth.login(make_user(locale="en"))
    page = text(client.get(f"/resources/{camera.id}"))
    assert "Cameras" in page and "Inventory code: CAM-01" in page and "Inventory code :" not in page
    listing = text(client.get("/resources"))
    assert "Camera In service" in listing
    assert "Micro In service" in listing  # no English name: the French one


# Emails in the log, and where their links point -------------------------------------------------


def test_an_email_written_to_the_log_reads_as_text_with_its_links_whole(caplog):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "La Malle <x@example.org>", "a@example.org", "Réinitialisation"
    link = "http://127.0.0.1:5077/password/reset/" + "Ab=-_" * 30
    message.set_content(f"Bonjour Léa,\n\nVotre lien : {link}\n" + "é" * 200)
    with caplog.at_level(logging.INFO, logger="app.services.mail"):
        mail.send(mail.MailSettings("", 25, False, "", "", "x@example.org", 1.0), message)
    assert link in caplog.text and "Bonjour Léa" in caplog.text and "=3D" not in caplog.text


def test_the_site_url_follows_host_and_port_unless_set(monkeypatch, tmp_path):
    given = {"SECRET_KEY": "s", "CREDENTIALS_KEY": "c"}
    monkeypatch.delenv("SITE_URL", raising=False)
    monkeypatch.setenv("PORT", "5077")
    monkeypatch.setenv("HOST", "0.0.0.0")
    assert config.load(tmp_path, given)["SITE_URL"] == "http://127.0.0.1:5077"
    monkeypatch.setenv("HOST", "malle.local")
    assert config.load(tmp_path, given)["SITE_URL"] == "http://malle.local:5077"
    monkeypatch.setenv("SITE_URL", "https://lamalle.example.org/")
    assert config.load(tmp_path, given)["SITE_URL"] == "https://lamalle.example.org"


def test_every_page_links_the_legal_pages_and_names_its_icon(client):
    page = client.get("/").get_data(as_text=True)
    for address in ("/mentions-legales", "/confidentialite", "/accessibilite"):
        assert f'href="{address}"' in page
    icon = client.get("/static/favicon.svg")
    assert 'rel="icon"' in page and icon.status_code == 200 and b"<svg" in icon.data
