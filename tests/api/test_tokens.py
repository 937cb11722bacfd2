"""Personal tokens: made once, stored hashed, revoked at once; the API's only way in."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from app.db import unit_of_work
from app.extensions import db
from app.models import ApiToken, Booking
from app.services import tokens
from app.services.errors import NotFound, RuleViolation
from tests.api.conftest import NOW, iso


def test_a_token_is_shown_once_and_only_its_hash_is_stored(session, ctx, make_user):
    member = make_user()
    with unit_of_work(session):
        made = tokens.create(session, ctx(member), name="Site de l'association")
    stored = session.scalars(select(ApiToken)).one()
    assert stored.token_hash == hashlib.sha256(made.secret.encode()).hexdigest()
    assert stored.prefix == made.secret[:8]
    dumped = " ".join(str(v) for v in session.execute(text("SELECT * FROM api_tokens")).one())
    assert made.secret not in dumped


def test_a_token_finds_its_owner_until_it_is_revoked(session, ctx, make_user):
    member = make_user()
    with unit_of_work(session):
        made = tokens.create(session, ctx(member), name="script")
    assert tokens.find(session, made.secret).user_id == member.id
    with unit_of_work(session):
        tokens.revoke(session, ctx(member), token_id=made.token.id)
    assert tokens.find(session, made.secret) is None


def test_a_deactivated_account_s_tokens_stop_working(session, ctx, make_user):
    member = make_user()
    with unit_of_work(session):
        made = tokens.create(session, ctx(member), name="script")
        member.active = False
    assert tokens.find(session, made.secret) is None


@pytest.mark.parametrize("secret", ["", "x", "a" * 500, "not a token!", "Ω" * 43])
def test_anything_that_is_not_a_token_finds_nobody(session, secret):
    assert tokens.find(session, secret) is None


def test_someone_else_s_token_cannot_be_revoked_and_is_not_said_to_exist(session, ctx, make_user):
    owner, other = make_user(), make_user()
    with unit_of_work(session):
        made = tokens.create(session, ctx(owner), name="script")
    with pytest.raises(NotFound), unit_of_work(session):
        tokens.revoke(session, ctx(other), token_id=made.token.id)
    assert tokens.find(session, made.secret) is not None


def test_a_token_needs_a_name(session, ctx, make_user):
    with pytest.raises(RuleViolation), unit_of_work(session):
        tokens.create(session, ctx(make_user()), name="   ")
    assert session.scalar(select(ApiToken)) is None


def test_the_last_use_is_written_at_most_once_a_minute(session, ctx, make_user):
    member = make_user()
    with unit_of_work(session):
        made = tokens.create(session, ctx(member), name="script")
    for seconds, expected in ((0, NOW), (30, NOW), (61, NOW + timedelta(seconds=61))):
        with unit_of_work(session):
            tokens.authenticate(session, ctx(member, now=NOW + timedelta(seconds=seconds)), made.secret)
        session.expire_all()
        assert session.get(ApiToken, made.token.id).last_used_at == expected


def test_a_revoked_token_gets_401(api, make_user, make_token, session, ctx):
    member = make_user()
    secret = make_token(member)
    assert api.get("/api/v1/me/bookings", token=secret).status_code == 200
    token_id = session.scalar(select(ApiToken.id))
    with unit_of_work(session):
        tokens.revoke(session, ctx(member), token_id=token_id)
    response = api.get("/api/v1/me/bookings", token=secret)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_call_writes_the_token_s_last_use(api, make_user, make_token, session):
    secret = make_token(make_user())
    api.get("/api/v1/me/bookings", token=secret)
    session.expire_all()
    assert session.scalar(select(ApiToken.last_used_at)) == NOW


def test_a_logged_in_browser_gets_401_from_the_api(api, auth, make_user):
    auth.login(make_user())
    response = api.get("/api/v1/me/bookings")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_a_token_never_opens_a_page(api, make_user, make_token):
    secret = make_token(make_user())
    response = api.get("/bookings/mine", token=secret)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_token_calls_need_no_csrf_token(make_app, make_user, make_token, make_resource, clock):
    clock(NOW)
    resource = make_resource()
    secret = make_token(make_user())
    client = make_app(WTF_CSRF_ENABLED=True, FIXED_NOW=NOW).test_client()
    response = client.post(
        "/api/v1/bookings",
        json={"resource_id": resource.id, "start": iso(NOW + timedelta(days=2)), "end": iso(NOW + timedelta(days=3))},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 201
    db.session.rollback()  # the other app wrote it: read past this session's snapshot
    assert db.session.scalar(select(Booking.id)) == response.json["id"]


def test_the_profile_page_makes_shows_and_revokes_tokens(client, auth, make_user, session):
    member = make_user()
    auth.login(member)
    response = client.post("/account/tokens", data={"name": "Site de la structure"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    shown = re.search(r'value="([A-Za-z0-9_-]{43})"', page)
    assert shown is not None
    assert tokens.find(session, shown.group(1)).name == "Site de la structure"
    assert "Site de la structure" in client.get("/account").get_data(as_text=True)
    assert shown.group(1) not in client.get("/account").get_data(as_text=True)
    token_id = session.scalar(select(ApiToken.id))
    client.post(f"/account/tokens/{token_id}/revoke")
    session.expire_all()
    assert tokens.find(session, shown.group(1)) is None


def test_the_profile_page_says_when_a_token_was_last_used(client, auth, api, make_user, make_token):
    member = make_user()
    secret = make_token(member, name="Tableau de bord")
    api.get("/api/v1/me/bookings", token=secret)
    auth.login(member)
    page = client.get("/account").get_data(as_text=True)
    assert "Tableau de bord" in page
    assert "dernière utilisation" in page
    assert "lundi 11 janvier 2027" in page


def test_a_token_without_a_name_is_refused_on_the_page(client, auth, make_user, session):
    auth.login(make_user())
    response = client.post("/account/tokens", data={"name": ""})
    assert response.status_code == 422
    assert session.scalar(select(ApiToken)) is None


def test_the_command_line_prints_a_token_for_an_account(runner, make_user, session):
    member = make_user()
    result = runner.invoke(args=["create-token", member.email, "--name", "import nocturne"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[-1]
    assert tokens.find(session, secret).user_id == member.id


def test_the_command_line_refuses_an_unknown_address(runner, session):
    result = runner.invoke(args=["create-token", "personne@example.org", "--name", "x"])
    assert result.exit_code != 0
    assert session.scalar(select(ApiToken)) is None
