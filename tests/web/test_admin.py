import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import Category, Resource, User


def admin_urls(app, ids: dict[str, int]) -> list[tuple[str, str]]:
    """Every /admin route of the app, with each method it answers, ids filled in."""
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin"):
            continue
        path = re.sub(r"<int:(\w+)>", lambda m: str(ids[m.group(1)]), rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            urls.append((method, path))
    return urls


@pytest.fixture
def scene(session, make_user, make_resource):
    from app.models import AgendaSource, Organisation

    target = make_user(approved=False)
    resource = make_resource()
    source = AgendaSource(name="Partenaire", trusted=False)
    typed_in = Organisation(name="Structure tapée à l'inscription", confirmed=False)
    session.add_all([source, typed_in])
    session.commit()
    return {
        "user_id": target.id,
        "resource_id": resource.id,
        "category_id": resource.category_id,
        "topic_id": 1,
        "source_id": source.id,
        "message_id": 1,
        "organisation_id": typed_in.id,
    }


def test_the_admin_area_has_the_routes_this_test_checks(app, scene):
    assert len(admin_urls(app, scene)) >= 15


def test_visitors_are_sent_to_the_login_page_from_every_admin_route(app, client, scene):
    for method, path in admin_urls(app, scene):
        response = client.open(path, method=method)
        assert response.status_code == 302, (method, path)
        assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", [set(), {"trainer"}, "host"])
def test_members_hosts_and_trainers_get_403_on_every_admin_route(app, client, auth, make_user, scene, session, role):
    person = make_user(hosts=("31",)) if role == "host" else make_user(roles=role)
    auth.login(person)
    for method, path in admin_urls(app, scene):
        response = client.open(path, method=method)
        assert response.status_code == 403, (method, path)
    # And nothing changed through them.
    assert session.get(User, scene["user_id"]).approved_at is None
    assert session.get(Resource, scene["resource_id"]).retired_at is None


def test_an_admin_opens_every_admin_page(app, client, auth, make_user, scene):
    auth.login(make_user(roles={"admin"}))
    for method, path in admin_urls(app, scene):
        if method == "GET":
            assert client.get(path).status_code == 200, path


def test_an_admin_creates_a_category_and_a_resource_that_visitors_then_find(client, auth, make_user, session):
    auth.login(make_user(roles={"admin"}))
    response = client.post(
        "/admin/categories/new",
        data={
            "name": "Enregistreur",
            "name_plural": "Enregistreurs",
            "description": "Enregistreurs audio de poche.",
            "needs_pickup": "y",
            "needs_approval": "y",
            "name_en": "Recorder",
            "name_plural_en": "Recorders",
            "max_duration": "3",
            "max_duration_unit": "days",
            "min_lead": "24",
            "min_lead_unit": "hours",
            "max_advance_days": "90",
            "buffer_hours": "12",
        },
    )
    assert response.status_code == 302
    category = session.scalar(select(Category).where(Category.slug == "enregistreur"))
    assert (category.buffer_hours, category.max_duration_hours, category.min_lead_hours) == (12, 72, 24)
    assert (category.name_en, category.name_plural_en) == ("Recorder", "Recorders")

    response = client.post(
        "/admin/resources/new",
        data={
            "name": "Zoom H6 de Rodez",
            "category": str(category.id),
            "departement": "12",
            "description": "Avec bonnette.",
        },
    )
    assert response.status_code == 302
    client.post("/logout")
    page = client.get(f"/resources?category={category.id}").get_data(as_text=True)
    assert "Zoom H6 de Rodez" in page
    assert "12 – Aveyron" in page


def test_a_retired_resource_leaves_the_catalogue_but_stays_in_history(client, auth, make_user, make_resource, session):
    resource = make_resource(name="Vieille caméra")
    auth.login(make_user(roles={"admin"}))
    client.post(f"/admin/resources/{resource.id}/retire", data={"retired": "1"})
    session.expire_all()
    assert session.get(Resource, resource.id).retired_at is not None
    assert "Vieille caméra" in client.get("/admin/resources").get_data(as_text=True)
    client.post("/logout")
    assert "Vieille caméra" not in client.get("/resources").get_data(as_text=True)
    assert client.get(f"/resources/{resource.id}").status_code == 404


def test_a_host_role_needs_a_departement(client, auth, make_user, session):
    admin = make_user(roles={"admin"})
    member = make_user()
    auth.login(admin)
    response = client.post(f"/admin/users/{member.id}", data={"roles": ["host"]})
    assert "Un hôte doit être rattaché à au moins un département." in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, member.id).roles == {"member"}
    client.post(f"/admin/users/{member.id}", data={"roles": ["host"], "host_departements": ["11", "34"]})
    session.expire_all()
    assert session.get(User, member.id).host_codes == {"11", "34"}


def test_an_admin_cannot_remove_their_own_admin_role(client, auth, make_user, session):
    admin = make_user(roles={"admin"})
    auth.login(admin)
    client.post(f"/admin/users/{admin.id}", data={"roles": []})
    session.expire_all()
    assert session.get(User, admin.id).is_admin


def test_shared_account_credentials_are_stored_encrypted(app, client, auth, make_user, make_category, session):
    category = make_category(needs_pickup=False)
    auth.login(make_user(roles={"admin"}))
    client.post(
        "/admin/resources/new",
        data={
            "name": "Zoom n°3",
            "category": str(category.id),
            "departement": "31",
            "account_login": "zoom3@example.org",
            "account_password": "secret-zoom-3",
        },
    )
    resource = session.scalar(select(Resource).where(Resource.name == "Zoom n°3"))
    assert "secret-zoom-3" not in resource.credentials_encrypted
    from app.services import credentials

    plain = credentials.decrypt(app.config["CREDENTIALS_KEY"], resource.credentials_encrypted)
    assert plain == credentials.Credentials("zoom3@example.org", "secret-zoom-3")


def test_an_admin_sends_a_failed_email_again_from_the_outbox_page(client, auth, clock, session, make_user):
    from app.db import unit_of_work
    from app.models import OutboxMessage, OutboxStatus
    from app.services import outbox
    from tests.factories import NOW

    with unit_of_work(session):
        outbox.queue(session, key="test:1", to="a@example.org", subject="Rappel perdu", body_text="b", now=NOW)
    row = session.scalar(select(OutboxMessage))
    with unit_of_work(session):
        row.status, row.attempts, row.last_error = OutboxStatus.FAILED, outbox.MAX_ATTEMPTS, "SMTPError: 550"
    clock(NOW + timedelta(days=1))
    auth.login(make_user(roles={"admin"}))
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "Rappel perdu" in page and "En échec (1)" in page and "SMTPError: 550" in page
    response = client.post(f"/admin/outbox/{row.id}/retry", follow_redirects=True)
    assert "Le message repart dans la file" in response.get_data(as_text=True)
    session.expire_all()
    assert (row.status, row.attempts, row.next_attempt_at) == (OutboxStatus.PENDING, 0, NOW + timedelta(days=1))
    assert "Aucun e-mail en échec." in client.get("/admin/outbox?status=failed").get_data(as_text=True)
    assert "Rappel perdu" in client.get("/admin/outbox?status=pending").get_data(as_text=True)
    assert client.get("/admin/outbox?status=nonsense").status_code == 200


def test_lists_are_paginated_by_the_per_page_setting(app, client, auth, make_user):
    auth.login(make_user(roles={"admin"}, display_name="Aaron Admin"))
    for n in range(3):
        make_user(display_name=f"Zoé {n}")
    app.config["PER_PAGE"], before = 2, app.config["PER_PAGE"]
    try:
        first = client.get("/admin/users").get_data(as_text=True)
        third = client.get("/admin/users?page=2").get_data(as_text=True)
    finally:
        app.config["PER_PAGE"] = before
    assert "Aaron Admin" in first and "Zoé 0" in first and "Zoé 1" not in first
    assert "Zoé 1" in third and "Zoé 2" in third
