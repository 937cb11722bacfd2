"""A host keeps the store's address, hours and closing days true; everyone reads them."""

from datetime import time

import pytest
from sqlalchemy import select

from app.models import PickupPoint
from tests.factories import NOW


@pytest.fixture(autouse=True)
def monday_morning(clock):
    return clock(NOW)


@pytest.fixture
def store(make_pickup_point):
    return make_pickup_point(departement_code="34", name="Stock de l'Hérault")


def test_a_host_sets_the_address_and_the_weekly_hours(client, auth, session, store, make_user):
    auth.login(make_user(hosts=("34",)))
    page = client.get(f"/points/{store.id}/edit")
    assert page.status_code == 200 and "lundi" in page.get_data(as_text=True)
    saved = client.post(
        f"/points/{store.id}/edit",
        data={
            "point-name": "Maison de la science",
            "point-address": "2 place de la Comédie, Montpellier",
            "point-access_notes": "Sonner à l'accueil",
            "point-phone": "04 00 00 00 00",
            "point-email": "",
            "point-submit": "1",
        },
    )
    assert saved.status_code == 302
    # As a browser sends the table: every field of the seven days, most of them empty.
    hours = {f"days-{d}-{name}": "" for d in range(7) for name in ("opens_1", "closes_1", "opens_2", "closes_2")}
    hours |= {"days-0-opens_1": "09:00", "days-0-closes_1": "12:00"}
    hours |= {"days-2-opens_2": "14:00", "days-2-closes_2": "17:30"}
    assert client.post(f"/points/{store.id}/edit", data=hours | {"submit": "1"}).status_code == 302
    session.expire_all()
    point = session.get(PickupPoint, store.id)
    assert point.address.startswith("2 place")
    assert [(h.weekday, h.opens_at, h.closes_at) for h in point.hours] == [
        (0, time(9), time(12)),
        (2, time(14), time(17, 30)),
    ]


def test_half_a_span_is_explained_and_nothing_changes(client, auth, session, store, make_user):
    auth.login(make_user(hosts=("34",)))
    page = client.post(f"/points/{store.id}/edit", data={"days-1-opens_1": "09:00", "submit": "1"})
    assert page.status_code == 200 and "Indiquez l&#39;ouverture et la fermeture." in page.get_data(as_text=True)
    session.expire_all()
    assert session.get(PickupPoint, store.id).hours == []


@pytest.mark.parametrize("roles", [{"hosts": ("11",)}, {}])
def test_others_cannot_edit_a_point(client, auth, store, make_user, roles):
    auth.login(make_user(**roles))
    assert client.get(f"/points/{store.id}/edit").status_code == 403
    assert client.post(f"/points/{store.id}/edit", data={"point-name": "X", "point-submit": "1"}).status_code == 403


def test_a_host_adds_another_pickup_point_and_an_admin_keeps_an_item_there(
    client, auth, session, store, make_user, make_category, make_resource, make_pickup_point
):
    from app.models import Resource

    auth.login(make_user(hosts=("34",)))
    response = client.post("/points/new/34", data={"name": "Médiathèque de Sète", "submit": "1"})
    assert response.status_code == 302
    other = session.scalar(select(PickupPoint).where(PickupPoint.name == "Médiathèque de Sète"))
    assert other.departement_code == "34"
    auth.logout()
    auth.login(make_user(hosts=("11",)))
    assert client.post("/points/new/34", data={"name": "Ailleurs", "submit": "1"}).status_code == 403
    auth.logout()

    camera = make_resource(name="Caméra", departement_code="34", category=make_category())
    auth.login(make_user(roles={"admin"}))
    fields = {
        "name": "Caméra",
        "category": str(camera.category_id),
        "departement": "34",
        "description": "",
        "contents": "",
        "account_login": "",
        "account_password": "",
    }
    elsewhere = session.scalar(select(PickupPoint).where(PickupPoint.departement_code != "34"))
    if elsewhere is not None:  # a point of another département is refused for an item of the 34
        page = client.post(f"/admin/resources/{camera.id}/edit", data=fields | {"pickup_point": str(elsewhere.id)})
        assert "Choisissez un lieu de retrait du département de l&#39;objet." in page.get_data(as_text=True)
    assert (
        client.post(f"/admin/resources/{camera.id}/edit", data=fields | {"pickup_point": str(other.id)}).status_code
        == 302
    )
    session.expire_all()
    assert session.get(Resource, camera.id).pickup_point_id == other.id
