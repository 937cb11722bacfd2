"""Sessions and "remember me": renewed at login, ended by logout and by a new password."""

from flask import g

from app.extensions import db
from tests.factories import PASSWORD

NEW_PASSWORD = "un-tout-nouveau-secret-42"


def log_in(client, user, remember=True):
    answer = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "remember": "y"}
        if remember
        else {"email": user.email, "password": PASSWORD},
    )
    assert answer.status_code == 302
    return client.get_cookie("remember_token")


def signed_in(client) -> bool:
    # The tests' app context outlives a request, and Flask-Login caches the user on it: forget
    # it, as each real request starts without it.
    g.pop("_login_user", None)
    return client.get("/bookings/mine").status_code == 200


def with_only(app, cookie):
    """A new browser holding nothing but a copy of that cookie."""
    other = app.test_client()
    other.set_cookie("remember_token", cookie.value)
    return other


def test_a_remember_me_cookie_logs_a_new_browser_in_until_its_owner_logs_out(app, client, make_user):
    user = make_user()
    cookie = log_in(client, user)
    assert cookie is not None and cookie.http_only
    assert signed_in(with_only(app, cookie))

    client.post("/logout")

    assert not signed_in(with_only(app, cookie))
    assert not signed_in(client)


def test_a_new_password_ends_every_remembered_browser_but_the_one_that_changed_it(app, client, make_user):
    user = make_user()
    cookie = log_in(client, user)
    elsewhere = with_only(app, cookie)
    assert signed_in(elsewhere)

    changed = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )

    assert changed.status_code == 302
    assert signed_in(client)
    assert not signed_in(with_only(app, cookie))
    fresh = app.test_client()
    assert not signed_in(fresh)


def test_the_remember_cookie_is_flagged_secure_with_the_session_cookie(monkeypatch, tmp_path):
    from app import config

    monkeypatch.setenv("SESSION_COOKIE_SECURE", "true")
    assert config.load(tmp_path)["REMEMBER_COOKIE_SECURE"] is True
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "false")
    assert config.load(tmp_path)["REMEMBER_COOKIE_SECURE"] is False


def test_a_session_value_set_before_login_does_not_survive_it(app, client, make_user):
    with client.session_transaction() as before:
        before["planted"] = "by whoever used this browser"
    log_in(client, make_user(), remember=False)
    with client.session_transaction() as after:
        assert "planted" not in after
        assert after.get("_user_id")


def test_an_old_style_session_id_without_its_token_loads_nobody(app, make_user):
    user = make_user()
    user.renew_login_token()
    db.session.commit()
    other = app.test_client()
    with other.session_transaction() as planted:
        planted["_user_id"] = str(user.id)
        planted["_fresh"] = True
    assert not signed_in(other)
