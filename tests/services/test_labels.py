"""Label sheets and the "now" card a label's QR code opens."""

from datetime import timedelta

import pytest
import segno

from app.db import unit_of_work
from app.models import BookingStatus
from app.services import labels, maintenance
from app.services.errors import Forbidden, NotFound
from tests.factories import NOW, ctx

S = BookingStatus


def at(days: float = 0, hours: float = 0):
    return NOW + timedelta(days=days, hours=hours)


def card_url(resource) -> str:
    return f"https://lamalle.example/items/{resource.id}/now"


@pytest.fixture
def aude(make_category, make_resource):
    cameras = make_category(name="Caméra")
    return [
        make_resource(name="Caméra A", category=cameras, departement_code="11", inventory_code="11-0002"),
        make_resource(name="Caméra B", category=cameras, departement_code="11", inventory_code="11-0001"),
    ]


def test_a_host_gets_one_label_per_item_of_the_departement_with_the_qr_code_of_its_card(
    session, aude, make_user, make_category, make_resource
):
    make_resource(name="Ailleurs", departement_code="34", inventory_code="34-0001")
    make_resource(name="Retirée", departement_code="11", inventory_code="11-0003", retired_at=at(-1))
    make_resource(name="Zoom", category=make_category(needs_pickup=False), departement_code="11")
    sheet = labels.sheet(session, ctx(make_user(hosts=("11",))), departement_code="11", card_url=card_url)
    assert [label.resource.inventory_code for label in sheet.labels] == ["11-0001", "11-0002"]
    for label in sheet.labels:
        assert label.url == card_url(label.resource)
        # segno cannot read a code back: compare with what segno itself draws for that address.
        expected = segno.make(label.url, error=labels.QR_ERROR).svg_inline(**labels.SVG_OPTIONS)
        assert label.svg == expected and label.svg.startswith("<svg")
        assert label.svg != segno.make(card_url(aude[0]) + "x", error=labels.QR_ERROR).svg_inline(**labels.SVG_OPTIONS)


def test_an_admin_may_print_any_departements_labels(session, aude, make_user):
    sheet = labels.sheet(session, ctx(make_user(roles={"admin"})), departement_code="11", card_url=card_url)
    assert len(sheet.labels) == 2


@pytest.mark.parametrize("who", ["member", "host of another département"])
def test_others_may_not_print_a_departements_labels(session, aude, make_user, who):
    actor = make_user() if who == "member" else make_user(hosts=("34",))
    with pytest.raises(Forbidden):
        labels.sheet(session, ctx(actor), departement_code="11", card_url=card_url)


def test_an_unknown_departement_has_no_labels(session, make_user):
    with pytest.raises(NotFound):
        labels.sheet(session, ctx(make_user(roles={"admin"})), departement_code="75", card_url=card_url)


def test_the_now_card_shows_the_loan_under_way_to_the_items_host(session, aude, make_user, make_booking):
    host, member = make_user(hosts=("11",)), make_user()
    lent = make_booking(resource=aude[0], user=member, starts_at=at(-1), ends_at=at(1), status=S.PICKED_UP)
    make_booking(resource=aude[0], user=member, starts_at=at(3), ends_at=at(4))
    card = labels.now_card(session, ctx(host), resource=aude[0])
    assert card.can_act and card.busy_now
    assert card.out.id == lent.id


def test_the_now_card_shows_the_next_booking_when_the_item_is_in(session, aude, make_user, make_booking):
    host, member = make_user(hosts=("11",)), make_user()
    make_booking(resource=aude[0], user=member, starts_at=at(-5), ends_at=at(-4), status=S.RETURNED)
    soon = make_booking(resource=aude[0], user=member, starts_at=at(0, 2), ends_at=at(1))
    card = labels.now_card(session, ctx(host), resource=aude[0])
    assert (card.out, card.next.id, card.busy_now) == (None, soon.id, False)


@pytest.mark.parametrize("who", ["member", "host of another département"])
def test_anyone_else_gets_a_read_only_card_without_the_holder(session, aude, make_user, make_booking, who):
    make_booking(resource=aude[0], user=make_user(), starts_at=at(-1), ends_at=at(1), status=S.PICKED_UP)
    actor = make_user() if who == "member" else make_user(hosts=("34",))
    card = labels.now_card(session, ctx(actor), resource=aude[0])
    assert not card.can_act
    assert (card.out, card.next, card.busy_now) == (None, None, True)


def test_the_now_card_tells_an_item_is_out_of_service(session, aude, make_user):
    host = make_user(hosts=("11",))
    with unit_of_work(session):
        maintenance.put_out_of_service(session, ctx(host), resource=aude[1], reason="Objectif rayé")
    assert labels.now_card(session, ctx(make_user()), resource=aude[1]).period.reason == "Objectif rayé"


def test_nobody_logged_in_gets_no_card(session, aude):
    with pytest.raises(Forbidden):
        labels.now_card(session, ctx(None), resource=aude[0])
