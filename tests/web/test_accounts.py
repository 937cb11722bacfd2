import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import jobs
from app.db import unit_of_work
from app.models import AuditEntry, OutboxMessage, User
from app.services import accounts, mail
from app.services.errors import Forbidden, NotFound, RuleViolation
from tests.factories import NOW, PASSWORD


def register(client, **overrides):
    data = {
        "email": "nouvelle@example.org",
        "display_name": "Nina Nouvelle",
        "organisation": "0",
        "departement": "34",
        "password": "un-mot-de-passe-long",
        "confirm": "un-mot-de-passe-long",
        "consent": "y",
    }
    data.update(overrides)
    return client.post("/register", data=data)


def test_registration_creates_a_member_who_waits_for_approval(client, auth, session):
    response = register(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    user = session.scalar(select(User).where(User.email == "nouvelle@example.org"))
    assert user.roles == {"member"}
    assert user.departement_code == "34"
    assert not user.is_approved
    [told] = [m for m in session.scalars(select(OutboxMessage)) if m.to_address == user.email]
    assert "Votre compte La Malle est créé" in told.subject
    client.post("/login", data={"email": user.email, "password": "un-mot-de-passe-long"})
    page = client.get("/account").get_data(as_text=True)
    assert "attend la validation" in page


def test_registration_tells_every_admin_by_email(client, session, make_user):
    admin = make_user(roles={"admin"})
    register(client)
    rows = [row for row in session.scalars(select(OutboxMessage)) if row.to_address == admin.email]
    assert len(rows) == 1
    assert "Nina Nouvelle" in rows[0].body_text


def test_an_admin_approves_a_pending_account(client, auth, session, make_user):
    admin = make_user(roles={"admin"})
    member = make_user(approved=False)
    auth.login(admin)
    listing = client.get("/admin/users?show=pending").get_data(as_text=True)
    assert member.display_name in listing
    client.post(f"/admin/users/{member.id}/approve")
    session.expire_all()
    assert session.get(User, member.id).approved_at is not None
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.subject_id == member.id)).all()
    assert "approve" in actions


def test_an_address_is_registered_once_whatever_its_case_and_the_page_does_not_tell(client, make_user, session):
    owner = make_user(email="deja@example.org")
    answers = []
    for address in ("DEJA@Example.org", "libre@example.org"):
        response = register(client, email=address)
        answers.append((response.status_code, response.headers["Location"], client.get(response.headers["Location"])))
    # The same answer for an address with an account and one without: no way to probe addresses.
    (taken_status, taken_to, taken_page), (fresh_status, fresh_to, fresh_page) = answers
    assert (taken_status, taken_to) == (fresh_status, fresh_to)
    assert "un email vient de partir" in taken_page.get_data(as_text=True)
    assert "un email vient de partir" in fresh_page.get_data(as_text=True)
    assert len(session.scalars(select(User).where(User.email == "deja@example.org")).all()) == 1
    [warning] = [m for m in session.scalars(select(OutboxMessage)) if m.to_address == owner.email]
    assert "déjà un compte" in warning.subject and "rien n'a changé" in warning.body_text


def test_login_is_case_insensitive_on_the_address(client, make_user):
    make_user(email="casse@example.org")
    response = client.post("/login", data={"email": "Casse@EXAMPLE.org", "password": PASSWORD})
    assert response.status_code == 302


def test_a_wrong_password_is_refused_with_a_message(client, make_user):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": "pas-le-bon"})
    assert response.status_code == 200
    assert "Adresse ou mot de passe incorrect." in response.get_data(as_text=True)


def test_a_deactivated_account_cannot_log_in(client, make_user):
    user = make_user(active=False)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "Adresse ou mot de passe incorrect." in response.get_data(as_text=True)


def test_login_is_throttled_per_account_after_five_failures(client, make_user):
    user = make_user()
    for _ in range(5):
        assert client.post("/login", data={"email": user.email, "password": "faux"}).status_code == 200
    # Even the right password is refused now: the account is protected, not the guess.
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Trop de tentatives" in response.get_data(as_text=True)


def test_login_is_throttled_per_address_across_accounts(client, make_user):
    users = [make_user() for _ in range(5)]
    for _ in range(4):
        for user in users:
            client.post("/login", data={"email": user.email, "password": "faux"})
    other = make_user()
    response = client.post("/login", data={"email": other.email, "password": PASSWORD})
    assert response.status_code == 429


def test_successful_logins_do_not_count_towards_the_limit(client, auth, make_user):
    user = make_user()
    for _ in range(8):
        auth.login(user)
        auth.logout()


def test_login_never_redirects_to_another_site(client, make_user):
    user = make_user()
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        response = client.post(f"/login?next={target}", data={"email": user.email, "password": PASSWORD})
        assert response.headers["Location"] == "/"
        client.post("/logout")


def test_the_session_cookie_is_httponly_and_samesite_lax(client, make_user):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_password_change_needs_the_current_password(client, auth, make_user):
    user = make_user()
    auth.login(user)
    response = client.post(
        "/account/password",
        data={"current_password": "pas-le-bon", "password": "nouveau-mot-de-passe", "confirm": "nouveau-mot-de-passe"},
    )
    assert "Le mot de passe actuel est incorrect." in response.get_data(as_text=True)
    response = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "password": "nouveau-mot-de-passe", "confirm": "nouveau-mot-de-passe"},
    )
    assert response.status_code == 302
    auth.logout()
    auth.login(user, password="nouveau-mot-de-passe")


def _send_outbox(session, ctx, smtp_server):
    settings = mail.MailSettings(
        server="127.0.0.1",
        port=smtp_server.port,
        use_tls=False,
        username="",
        password="",
        sender="La Malle <no-reply@example.org>",
        timeout=5,
    )
    return jobs.send_due(session, ctx(), deliver=lambda m: mail.send(settings, m), sender=settings.sender)


def test_a_forgotten_password_is_reset_through_an_emailed_single_use_link(
    session, ctx, clock, client, make_user, smtp_server
):
    clock(NOW)
    user = make_user(email="oubli@example.org")
    response = client.post("/password/forgot", data={"email": "oubli@example.org"})
    assert response.status_code == 302

    report = _send_outbox(session, ctx, smtp_server)
    assert report.sent == 1
    [message] = smtp_server.messages
    assert message["To"] == "oubli@example.org"
    body = message.get_body(("plain",)).get_content()
    link = re.search(r"http://localhost(/password/reset/\S+)", body).group(1)

    response = client.post(link, data={"password": "tout-nouveau-secret", "confirm": "tout-nouveau-secret"})
    assert response.status_code == 302
    client.post("/login", data={"email": user.email, "password": "tout-nouveau-secret"})
    assert client.get("/account").status_code == 200
    client.post("/logout")

    # The same link a second time is dead.
    again = client.post(link, data={"password": "encore-un-autre-secret", "confirm": "encore-un-autre-secret"})
    assert again.status_code == 404
    assert client.post("/login", data={"email": user.email, "password": "encore-un-autre-secret"}).status_code == 200


def test_asking_a_reset_for_an_unknown_address_says_the_same_and_sends_nothing(client, session):
    response = client.post("/password/forgot", data={"email": "inconnu@example.org"}, follow_redirects=True)
    assert "Si un compte existe pour cette adresse" in response.get_data(as_text=True)
    assert session.scalars(select(OutboxMessage)).all() == []


def test_a_forged_reset_link_is_refused(client):
    assert client.get("/password/reset/not-a-real-token").status_code == 404
    assert client.get("/password/reset/" + "x" * 600).status_code == 404


def test_a_reset_link_expires_after_an_hour(client, clock, make_user):
    make_user(email="lent@example.org")
    clock(NOW)
    client.post("/password/forgot", data={"email": "lent@example.org"})
    clock(NOW + timedelta(minutes=59))
    assert client.get(_reset_link(client)).status_code == 200
    clock(NOW + timedelta(minutes=61))
    response = client.get(_reset_link(client))
    assert response.status_code == 422 and "Ce lien a expiré" in response.get_data(as_text=True)


def _reset_link(client) -> str:
    from app.extensions import db

    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.key.like("%password-reset%")))
    return re.search(r"http://localhost(/password/reset/\S+)", row.body_text).group(1)


def test_the_reset_limit_comes_from_the_configuration(make_app, make_user):
    user = make_user()
    client = make_app(RESET_LIMIT="2 per hour").test_client()
    codes = [client.post("/password/forgot", data={"email": user.email}).status_code for _ in range(3)]
    assert codes == [302, 302, 429]


# The rules, in the service -------------------------------------------------------------------------


def test_an_admin_cannot_deactivate_themselves(session, ctx, make_user):
    admin = make_user(roles={"admin"})
    with pytest.raises(RuleViolation), unit_of_work(session):
        accounts.set_active(session, ctx(admin), user=admin, active=False)
    assert session.get(User, admin.id).active
    other = make_user(roles={"admin"})
    with unit_of_work(session):
        accounts.set_active(session, ctx(other), user=admin, active=False)
    assert not session.get(User, admin.id).active


def test_an_admin_deactivating_themselves_through_the_page_stays_active(client, auth, session, make_user):
    admin = make_user(roles={"admin"})
    auth.login(admin)
    response = client.post(f"/admin/users/{admin.id}/active", data={"active": "0"}, follow_redirects=True)
    assert response.status_code == 200
    assert "Vous ne pouvez pas désactiver votre propre compte." in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, admin.id).active


@pytest.mark.parametrize(
    "call",
    [
        lambda s, c, user: accounts.approve(s, c, user=user),
        lambda s, c, user: accounts.set_active(s, c, user=user, active=False),
        lambda s, c, user: accounts.set_roles(s, c, user=user, roles=["admin"], host_departements=[]),
    ],
    ids=["approve", "set_active", "set_roles"],
)
def test_only_admins_approve_deactivate_or_give_roles(session, ctx, make_user, call):
    target = make_user(approved=False)
    for someone in (None, make_user(), make_user(hosts=("31",)), make_user(roles={"trainer"})):
        with pytest.raises(Forbidden), unit_of_work(session):
            call(session, ctx(someone), target)
    session.expire_all()
    assert (target.approved_at, target.active, target.roles) == (None, True, {"member"})


def test_approval_is_recorded_with_who_and_when(session, ctx, make_user):
    admin = make_user(roles={"admin"})
    member = make_user(approved=False)
    with unit_of_work(session):
        accounts.approve(session, ctx(admin, now=NOW), user=member)
    assert (member.approved_at, member.approved_by_id) == (NOW, admin.id)
    [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "approve")).all()
    assert (entry.actor_id, entry.subject_id, entry.at) == (admin.id, member.id, NOW)


def test_nobody_edits_someone_elses_profile_or_password(session, ctx, make_user):
    owner, other = make_user(display_name="Léa"), make_user()
    with pytest.raises(Forbidden), unit_of_work(session):
        accounts.update_profile(
            session,
            ctx(other),
            user=owner,
            display_name="Pirate",
            phone=None,
            organisation=None,
            departement=None,
            locale="fr",
        )
    with pytest.raises(Forbidden), unit_of_work(session):
        accounts.change_password(session, ctx(other), user=owner, current=PASSWORD, new="un-autre-secret")
    with pytest.raises(Forbidden), unit_of_work(session):
        accounts.set_locale(session, ctx(other), user=owner, locale="en", languages=("fr", "en"))
    session.expire_all()
    assert (owner.display_name, owner.locale) == ("Léa", "fr")
    assert accounts.authenticate(session, owner.email, PASSWORD) is not None


def test_registration_and_its_emails_commit_together_or_not_at_all(session, ctx, make_user):
    make_user(roles={"admin"})
    with pytest.raises(RuleViolation), unit_of_work(session):
        accounts.register(session, ctx(), email="a@example.org", display_name="A", password="assez-long-secret")
        raise RuleViolation("the caller's next step failed")
    assert session.scalars(select(User).where(User.email == "a@example.org")).all() == []
    assert session.scalars(select(OutboxMessage)).all() == []


def test_a_reset_link_works_once_and_for_an_hour(session, ctx, make_user):
    user = make_user()
    token = accounts.make_reset_token(ctx(now=NOW), user)
    with pytest.raises(RuleViolation):
        accounts.user_for_reset_token(session, ctx(now=NOW + timedelta(hours=1, seconds=1)), token=token)
    with unit_of_work(session):
        accounts.reset_password(session, ctx(now=NOW + timedelta(minutes=5)), token=token, new="tout-nouveau-secret")
    with pytest.raises(NotFound), unit_of_work(session):
        accounts.reset_password(session, ctx(now=NOW + timedelta(minutes=6)), token=token, new="encore-un-secret")
    assert accounts.authenticate(session, user.email, "tout-nouveau-secret") is not None
    with pytest.raises(NotFound):
        accounts.user_for_reset_token(session, ctx(signing_key="another-key"), token=token)
