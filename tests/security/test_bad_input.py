"""Hostile and malformed input on every form: a message per field, nothing stored half-way."""

import html

import pytest
from sqlalchemy import func, select

from app.models import Category, Resource, User
from tests.factories import PASSWORD

GOOD_REGISTRATION = {
    "email": "ok@example.org",
    "display_name": "Nom Correct",
    "organisation": "0",
    "departement": "31",
    "password": "un-mot-de-passe-long",
    "confirm": "un-mot-de-passe-long",
    "consent": "y",
}


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "", "This field is required"),
        ("email", "pas-une-adresse", "Invalid email address"),
        ("email", "x' OR '1'='1@example.org", "Invalid email address"),
        ("email", "a" * 250 + "@example.org", "Field cannot be longer than 254 characters"),
        ("display_name", "", "This field is required"),
        ("display_name", "<script>alert(1)</script>", "Les caractères < et > ne sont pas permis ici."),
        ("display_name", "Nom\x00avec\x07contrôle", "Ce champ contient des caractères non permis."),
        ("display_name", "x" * 121, "Field cannot be longer than 120 characters"),
        ("departement", "99", "N'est pas un choix valide."),
        ("departement", "", "Choisissez votre département."),
        ("organisation", "abc", "Choix non valide, ne peut pas être converti."),
        ("password", "court", "Field must be between 10 and 200 characters long"),
        ("confirm", "un-autre-mot-de-passe", "Les deux mots de passe diffèrent."),
    ],
)
def test_registration_refuses_bad_values_field_by_field(client, session, field, value, message):
    response = client.post("/register", data={**GOOD_REGISTRATION, field: value})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert count(session, User) == 0
    assert "invalid-feedback" in page or "alert" in page
    # WTForms' own messages come in French through Flask-WTF's translations.
    translated = {
        "This field is required": "Ce champ est requis",
        "Invalid email address": "Adresse électronique non valide",
        "Not a valid choice": "Pas un choix valide",
        "Field cannot be longer than 254 characters": "254 caractères",
        "Field cannot be longer than 120 characters": "120 caractères",
        "Field must be between 10 and 200 characters long": "entre 10 et 200 caractères",
    }
    assert translated.get(message, message) in html.unescape(page).replace("\u00a0", " ")


def test_a_huge_body_is_refused_with_413_and_stores_nothing(client, session):
    response = client.post("/register", data={**GOOD_REGISTRATION, "display_name": "x" * (10 * 1024 * 1024)})
    assert response.status_code == 413
    assert count(session, User) == 0


def test_the_login_form_answers_garbage_with_messages(client):
    for data in ({}, {"email": "\x00", "password": "x"}, {"email": "a@b.c", "password": "p" * 5000}):
        response = client.post("/login", data=data)
        assert response.status_code == 200


def test_the_profile_keeps_its_values_when_a_field_is_bad(client, auth, make_user, session):
    user = make_user(display_name="Nom Initial", phone="05 61 00 00 00")
    auth.login(user)
    for field, value in (("phone", "appelez-moi"), ("display_name", ""), ("locale", "de"), ("departement", "75")):
        data = {"display_name": "Nom Modifié", "phone": "", "organisation": "0", "departement": "31", "locale": "fr"}
        data[field] = value
        response = client.post("/account", data=data)
        assert response.status_code == 200, field
        session.expire_all()
        stored = session.get(User, user.id)
        assert (stored.display_name, stored.phone) == ("Nom Initial", "05 61 00 00 00"), field


def test_a_new_password_that_is_too_short_is_refused_and_the_old_one_still_works(client, auth, make_user):
    user = make_user()
    auth.login(user)
    response = client.post(
        "/account/password", data={"current_password": PASSWORD, "password": "court", "confirm": "court"}
    )
    assert response.status_code == 200
    assert "entre 10 et 200 caractères" in html.unescape(response.get_data(as_text=True))
    auth.logout()
    auth.login(user, password=PASSWORD)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "<b>gras</b>"),
        ("max_duration", "-5"),
        ("max_duration", "beaucoup"),
        ("max_duration_unit", "semaines"),
        ("max_advance_days", "0"),
        ("buffer_hours", "-1"),
        ("per_member_limit", "0"),
        ("description", "texte\x00binaire"),
    ],
)
def test_a_category_with_a_bad_rule_is_refused_and_nothing_changes(
    client, auth, make_user, make_category, session, field, value
):
    category = make_category(name="Caméra", max_duration_hours=48)
    auth.login(make_user(roles={"admin"}))
    data = {
        "name": "Caméra",
        "name_plural": "Caméras",
        "max_duration": "3",
        "max_duration_unit": "days",
        "min_lead": "0",
        "min_lead_unit": "hours",
        "max_advance_days": "30",
        "buffer_hours": "0",
        field: value,
    }
    assert client.post(f"/admin/categories/{category.id}/edit", data=data).status_code == 200
    assert client.post("/admin/categories/new", data={**data, "name": data["name"] or ""}).status_code == 200
    session.expire_all()
    assert session.get(Category, category.id).max_duration_hours == 48
    assert count(session, Category) == 1


def test_a_second_category_with_the_same_name_is_refused(client, auth, make_user, make_category, session):
    make_category(name="Micro", slug="micro")
    auth.login(make_user(roles={"admin"}))
    data = {"name": "Micro", "name_plural": "Micros", "max_duration_hours": "72", "max_advance_days": "30"}
    response = client.post("/admin/categories/new", data=data)
    assert "Une catégorie porte déjà ce nom." in response.get_data(as_text=True)
    assert count(session, Category) == 1


def test_a_resource_with_an_unknown_category_or_departement_is_refused(client, auth, make_user, make_category, session):
    category = make_category()
    auth.login(make_user(roles={"admin"}))
    for data in (
        {"name": "X", "category": "999", "departement": "31"},
        {"name": "X", "category": str(category.id), "departement": "75"},
        {"name": "", "category": str(category.id), "departement": "31"},
        {"name": "X", "category": "abc", "departement": "31"},
    ):
        assert client.post("/admin/resources/new", data=data).status_code == 200
    assert count(session, Resource) == 0


def test_unknown_ids_are_404_for_admins_too(client, auth, make_user):
    auth.login(make_user(roles={"admin"}))
    for path in ("/admin/users/999999", "/admin/categories/999999/edit", "/admin/resources/999999/edit"):
        assert client.get(path).status_code == 404, path


def test_every_form_needs_its_csrf_token(make_app, make_user):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    user = make_user()
    for path, data in (
        ("/login", {"email": user.email, "password": PASSWORD}),
        ("/register", GOOD_REGISTRATION),
        ("/password/forgot", {"email": user.email}),
        ("/language", {"lang": "en"}),
    ):
        response = client.post(path, data=data)
        assert response.status_code == 400, path
        assert "Le formulaire a expiré" in response.get_data(as_text=True)


def test_a_form_with_its_csrf_token_goes_through(make_app, make_user):
    import re

    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    user = make_user()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302


def test_nul_bytes_in_addresses_and_query_strings_are_a_400_not_a_500(client, auth, make_user):
    auth.login(make_user(roles={"admin"}, hosts=("11",)))
    for url in (
        "/feeds/me/%00.ics",
        "/desk/%00",
        "/departements/1%00/week",
        "/admin/users?q=%00",
        "/admin/resources?q=a%00b",
        "/resources?q=%00",
        "/trainings?topic=%00",
        "/resources/1?month=%00",
    ):
        response = client.get(url)
        assert response.status_code in (400, 404), url
    assert client.get("/admin/users?q=%00").status_code == 400


def test_registering_with_a_made_up_language_stores_a_known_one(client, session):
    response = client.post("/register?lang=klingon-xx", data=GOOD_REGISTRATION)
    assert response.status_code == 302
    assert session.scalar(select(User.locale)) == "fr"
