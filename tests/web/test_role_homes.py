"""Each person's home after logging in: what is theirs to do, by role, one click from the top bar."""

import html
import re
from datetime import timedelta

import pytest

from app.models import Enrolment, OutboxMessage
from tests.factories import NOW

H = timedelta(hours=1)
D = timedelta(days=1)


@pytest.fixture(autouse=True)
def monday_morning(clock):
    return clock(NOW)


def text_of(response) -> str:
    """The page's words, tags taken out: « À remettre 1 » whatever the markup around the count."""
    words = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(words))


def enrol(session, training, user, status):
    enrolment = Enrolment(
        session_id=training.id,
        user_id=user.id,
        status=status,
        queued_at=NOW,
        created_at=NOW,
        updated_at=NOW,
        sequence=0,
    )
    session.add(enrolment)
    session.commit()
    return enrolment


def test_the_top_bar_links_a_logged_in_person_to_their_home_first(client, auth, make_user):
    assert "Mon accueil" not in text_of(client.get("/"))
    auth.login(make_user())
    page = text_of(client.get("/"))
    assert page.index("Mon accueil") < page.index("Matériel")
    assert client.get("/home").status_code == 200


def test_a_visitor_asking_for_a_home_is_sent_to_log_in(client):
    response = client.get("/home")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_member_sees_what_to_pick_up_and_to_bring_back_and_their_place_on_a_waitlist(
    client, auth, session, make_user, make_resource, make_booking, make_training
):
    member = make_user(display_name="Camille Martin")
    camera = make_resource(name="Caméra Sony FX30")
    microphone = make_resource(name="Micro Rode Wireless GO")
    make_booking(resource=camera, user=member, starts_at=NOW + 2 * D, ends_at=NOW + 4 * D)
    make_booking(resource=microphone, user=member, starts_at=NOW - 3 * D, ends_at=NOW + D, status="picked_up")
    full = make_training(title="OBS : la session complète", capacity=1)
    enrol(session, full, make_user(), "registered")
    enrol(session, full, member, "waitlisted")
    auth.login(member)

    page = text_of(client.get("/home"))

    assert "À retirer" in page and "Caméra Sony FX30" in page
    assert "À rendre" in page and "Micro Rode Wireless GO" in page
    assert "OBS : la session complète" in page and "Liste d'attente — n° 1" in page
    assert "Administration" not in page and "Aujourd'hui au guichet" not in page


def test_a_host_sees_today_with_counts(client, auth, make_user, make_resource, make_booking):
    host = make_user(hosts=("31",))
    member = make_user(display_name="Camille Martin")
    camera = make_resource(name="Caméra Sony FX30", departement_code="31")
    make_booking(resource=camera, user=member, starts_at=NOW + H, ends_at=NOW + 2 * D)
    make_booking(resource=camera, user=member, starts_at=NOW + 5 * D, ends_at=NOW + 6 * D, status="requested")
    auth.login(host)

    page = text_of(client.get("/home"))

    assert "Aujourd'hui au guichet" in page
    assert re.search(r"À remettre 1 ", page) and re.search(r"Demandes en attente 1 ", page)
    assert re.search(r"En retard 0 ", page)
    assert "Camille Martin" in page


def test_a_trainer_sees_their_next_sessions(client, auth, make_user, make_training):
    trainer = make_user(roles={"trainer"})
    make_training(trainer=trainer, title="Kahoot! en classe")
    make_training(title="La session d'une autre")
    auth.login(trainer)

    page = text_of(client.get("/home"))

    assert "Mes prochaines sessions" in page and "Kahoot! en classe" in page
    assert "La session d'une autre" not in page


def test_an_admin_sees_accounts_to_approve_and_failed_emails(client, auth, session, make_user):
    admin = make_user(roles={"admin"})
    make_user(display_name="Émile Nouveau", approved=False)
    session.add(
        OutboxMessage(
            key="failed-1",
            to_address="perdu@example.org",
            subject="Votre réservation est validée",
            body_text="…",
            status="failed",
            created_at=NOW,
            next_attempt_at=NOW,
            attempts=5,
        )
    )
    session.commit()
    auth.login(admin)

    page = text_of(client.get("/home"))

    assert re.search(r"Comptes à valider 1 ", page) and "Émile Nouveau" in page
    assert re.search(r"Emails en échec 1 ", page) and "perdu@example.org" in page
