"""One-tap answers from the request email, through their pages: look first, act on the button."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.db import unit_of_work
from app.models import AuditEntry, Booking, BookingStatus, OutboxMessage
from app.services import booking, links
from tests.factories import NOW, ctx

D = timedelta(days=1)
USED = "Ce lien a déjà servi ou la demande a changé : elle est maintenant"


@pytest.fixture(autouse=True)
def monday_morning(clock):
    return clock(NOW)


@pytest.fixture
def member(make_user):
    return make_user(display_name="Camille Martin")


@pytest.fixture
def host(make_user):
    return make_user(display_name="Inès Vidal", hosts=("31",))


@pytest.fixture
def camera(make_resource):
    return make_resource(name="Caméra Sony", departement_code="31")


@pytest.fixture
def request_(make_booking, camera, member):
    return make_booking(resource=camera, user=member, starts_at=NOW + 3 * D, ends_at=NOW + 4 * D, status="requested")


def link(booking_, user, action: str) -> str:
    return "/a/" + links.sign(ctx(), booking=booking_, user=user, action=action)


def fresh(session, booking_id: int) -> Booking:
    """The booking as stored now (the page may have written it through another session)."""
    session.rollback()
    return session.get(Booking, booking_id)


def form_posting_to(page: str, url: str) -> str:
    found = re.search(rf'<form[^>]*action="{re.escape(url)}"[^>]*>.*?</form>', page, re.S)
    assert found, f"no form posting to {url}"
    return found.group(0)


def outbox_count(session) -> int:
    return session.scalar(select(func.count()).select_from(OutboxMessage))


def test_opening_a_link_only_asks_and_changes_nothing(client, session, request_, host):
    before = outbox_count(session)
    url = link(request_, host, "approve")
    response = client.get(url)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Valider la demande de Camille Martin pour Caméra Sony (" in page
    form = form_posting_to(page, url)
    assert form.count('type="submit"') == 1 and 'method="post"' in form
    assert 'name="reason"' not in form
    assert response.headers["Cache-Control"] == "no-store"
    again = fresh(session, request_.id)
    assert (again.status, again.sequence) == (BookingStatus.REQUESTED, 0)
    assert outbox_count(session) == before


def test_the_button_approves_as_the_host_without_logging_in(client, session, request_, host):
    url = link(request_, host, "approve")
    response = client.post(url)
    assert response.status_code == 200
    assert "La demande de Camille Martin pour Caméra Sony est validée" in response.get_data(as_text=True)
    done = fresh(session, request_.id)
    assert done.status == BookingStatus.APPROVED
    assert (done.decided_by_id, done.decided_at) == (host.id, NOW)
    entry = session.scalar(
        select(AuditEntry).where(AuditEntry.subject_id == request_.id, AuditEntry.action == "approve")
    )
    assert entry.actor_id == host.id
    # Answering by link does not log anyone in.
    assert client.get("/desk").status_code in (302, 401)


def test_the_host_logged_in_may_use_their_own_link(client, auth, session, request_, host):
    auth.login(host)
    assert client.post(link(request_, host, "approve")).status_code == 200
    assert fresh(session, request_.id).status == BookingStatus.APPROVED


def test_refusing_asks_for_a_reason_on_the_page(client, session, request_, host):
    url = link(request_, host, "reject")
    page = client.get(url).get_data(as_text=True)
    assert "Refuser la demande de Camille Martin pour Caméra Sony" in page
    assert 'name="reason"' in page
    for blank in ({}, {"reason": "   "}):
        response = client.post(url, data=blank)
        assert response.status_code == 200
        assert "is-invalid" in response.get_data(as_text=True)
        assert fresh(session, request_.id).status == BookingStatus.REQUESTED
    response = client.post(url, data={"reason": "La caméra part en révision."})
    assert "est refusée" in response.get_data(as_text=True)
    done = fresh(session, request_.id)
    assert (done.status, done.decision_reason, done.decided_by_id) == (
        BookingStatus.REJECTED,
        "La caméra part en révision.",
        host.id,
    )


def test_a_replayed_link_answers_410_with_the_reason_and_the_desk(client, session, request_, host):
    url = link(request_, host, "approve")
    assert client.post(url).status_code == 200
    for replay in (client.post, client.get):
        response = replay(url)
        page = response.get_data(as_text=True)
        assert response.status_code == 410
        assert USED in page and "« Validée »" in page and 'href="/desk"' in page
    assert fresh(session, request_.id).sequence == 1


def test_the_other_link_of_the_email_dies_with_the_first_answer(client, session, request_, host):
    reject = link(request_, host, "reject")
    client.post(link(request_, host, "approve"))
    response = client.post(reject, data={"reason": "Trop tard"})
    assert response.status_code == 410
    assert fresh(session, request_.id).status == BookingStatus.APPROVED


def test_an_edited_link_answers_400_and_changes_nothing(client, session, request_, host):
    url = link(request_, host, "approve")
    broken = url[:-3] + ("A" if url[-3] != "A" else "B") + url[-2:]
    for method in (client.get, client.post):
        response = method(broken)
        assert response.status_code == 400
        assert "pas valide" in response.get_data(as_text=True)
    assert fresh(session, request_.id).status == BookingStatus.REQUESTED


def test_an_expired_link_answers_410_and_says_so(client, clock, session, request_, host):
    url = link(request_, host, "approve")
    clock(NOW + 8 * D)
    response = client.post(url)
    assert response.status_code == 410
    assert "expiré" in response.get_data(as_text=True)
    assert fresh(session, request_.id).status == BookingStatus.REQUESTED


def test_someone_else_logged_in_is_refused_and_nothing_changes(client, auth, session, request_, host, make_user):
    url = link(request_, host, "approve")
    auth.login(make_user(hosts=("31",)))  # another host of the same store
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code == 403
        assert "autre personne" in response.get_data(as_text=True)
    assert fresh(session, request_.id).status == BookingStatus.REQUESTED


def test_the_button_needs_its_csrf_token(make_app, session, request_, host):
    app = make_app(WTF_CSRF_ENABLED=True, FIXED_NOW=NOW)
    with app.test_request_context():
        url = link(request_, host, "approve")
    client = app.test_client()
    page = client.get(url).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form_posting_to(page, url))
    assert token
    assert client.post(url).status_code == 400
    assert fresh(session, request_.id).status == BookingStatus.REQUESTED
    assert client.post(url, data={"csrf_token": token.group(1)}).status_code == 200
    assert fresh(session, request_.id).status == BookingStatus.APPROVED


def _answer_links(body: str) -> dict[str, str]:
    found = dict(re.findall(r"^(Valider|Refuser)[ \u00a0]: (http\S+)$", body, re.M))
    assert set(found) == {"Valider", "Refuser"}, body
    return found


def test_the_request_email_carries_each_host_their_own_working_links(
    client, auth, session, camera, member, host, make_user
):
    other_host = make_user(display_name="Paul Roux", hosts=("31",))
    with unit_of_work(session):
        made = booking.create(
            session, ctx(member), resource=camera, starts_at=NOW + 3 * D, ends_at=NOW + 4 * D, purpose="Tournage"
        )
    mails = {
        m.to_address: m for m in session.scalars(select(OutboxMessage).where(OutboxMessage.key.contains(":requested:")))
    }
    mine, theirs = _answer_links(mails[host.email].body_text), _answer_links(mails[other_host.email].body_text)
    assert mine["Valider"] != theirs["Valider"]
    assert all(url.startswith("http://localhost/a/") for url in (*mine.values(), *theirs.values()))
    assert mine["Valider"] in mails[host.email].body_html and mine["Refuser"] in mails[host.email].body_html

    # Paul's link is Paul's: Inès, logged in, cannot use it.
    auth.login(host)
    assert client.post(theirs["Valider"]).status_code == 403
    auth.logout()

    assert client.get(mine["Refuser"]).status_code == 200
    assert client.get(mine["Valider"]).status_code == 200
    assert client.post(mine["Valider"]).status_code == 200
    assert fresh(session, made.id).status == BookingStatus.APPROVED
    for used in (mine["Refuser"], theirs["Valider"], theirs["Refuser"]):
        assert client.get(used).status_code == 410
