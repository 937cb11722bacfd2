"""Signed one-tap links: for one booking, one person and one action; single use; seven days."""

from datetime import timedelta

import pytest

from app.db import unit_of_work
from app.services import accounts, booking, links
from app.services.errors import Forbidden
from tests.factories import NOW, ctx

D = timedelta(days=1)
USED = "Ce lien a déjà servi ou la demande a changé : elle est maintenant"


@pytest.fixture
def member(make_user):
    return make_user(display_name="Camille Martin")


@pytest.fixture
def host(make_user):
    return make_user(display_name="Inès Vidal", hosts=("31",))


@pytest.fixture
def request_(make_booking, make_resource, member):
    """Camille's request for a camera kept in Haute-Garonne, waiting for an answer."""
    return make_booking(
        resource=make_resource(name="Caméra Sony", departement_code="31"),
        user=member,
        starts_at=NOW + 3 * D,
        ends_at=NOW + 4 * D,
        status="requested",
    )


def edited(token: str, at: int) -> str:
    """The token with one character changed, as a mail client or a careless copy would."""
    swap = "A" if token[at] != "A" else "B"
    return token[:at] + swap + token[at + 1 :]


def test_a_link_reads_back_as_its_booking_person_and_action(session, request_, host):
    token = links.sign(ctx(), booking=request_, user=host, action="approve")
    answer = links.read(session, ctx(now=NOW + 2 * D), token=token)
    assert (answer.booking.id, answer.user.id, answer.action) == (request_.id, host.id, "approve")
    assert answer.expires_at == NOW + 7 * D


def test_the_action_is_part_of_the_signature(session, request_, host):
    approve = links.sign(ctx(), booking=request_, user=host, action="approve")
    reject = links.sign(ctx(), booking=request_, user=host, action="reject")
    assert approve != reject
    assert links.read(session, ctx(), token=reject).action == "reject"


@pytest.mark.parametrize("where", ["payload", "timestamp", "signature"])
def test_a_link_edited_by_one_character_is_refused_as_invalid(session, request_, host, where):
    token = links.sign(ctx(), booking=request_, user=host, action="approve")
    payload_end, timestamp_end = token.index("."), token.rindex(".")
    at = {"payload": payload_end // 2, "timestamp": timestamp_end - 1, "signature": len(token) - 5}[where]
    with pytest.raises(links.BadLink, match="pas valide") as refused:
        links.read(session, ctx(), token=edited(token, at))
    assert refused.value.status_code == 400


def test_a_link_signed_with_another_key_or_for_another_purpose_is_refused(session, request_, host):
    other_key = links.sign(ctx(signing_key="une-autre-clé"), booking=request_, user=host, action="approve")
    with pytest.raises(links.BadLink):
        links.read(session, ctx(), token=other_key)
    # A password reset link is signed with the same key, but not for this.
    with pytest.raises(links.BadLink):
        links.read(session, ctx(), token=accounts.make_reset_token(ctx(), host))


def test_a_garbled_or_overlong_link_is_refused_as_invalid(session):
    for token in ("", "n-importe-quoi", "x" * 600):
        with pytest.raises(links.BadLink):
            links.read(session, ctx(), token=token)


def test_a_link_is_dead_once_it_has_served(session, request_, host):
    token = links.sign(ctx(), booking=request_, user=host, action="approve")
    with unit_of_work(session):
        answer = links.read(session, ctx(), token=token)
        booking.approve(session, ctx(answer.user), booking=answer.booking)
    with pytest.raises(links.DeadLink, match=USED) as refused:
        links.read(session, ctx(), token=token)
    assert refused.value.status_code == 410


def test_every_host_link_dies_when_one_host_answers_or_the_request_changes(session, request_, host, make_user):
    other_host = make_user(hosts=("31",))
    theirs = links.sign(ctx(), booking=request_, user=other_host, action="reject")
    mine = links.sign(ctx(), booking=request_, user=host, action="approve")
    with unit_of_work(session):
        booking.change_dates(session, ctx(request_.user), booking=request_, starts_at=NOW + 5 * D, ends_at=NOW + 6 * D)
    for token in (theirs, mine):
        with pytest.raises(links.DeadLink, match=USED):
            links.read(session, ctx(), token=token)


def test_a_link_is_dead_once_the_request_is_no_longer_waiting_even_unchanged_since(session, request_, host):
    # Written straight to the database (an import, a fix by hand): the sequence did not move.
    request_.status = "cancelled"
    session.commit()
    token = links.sign(ctx(), booking=request_, user=host, action="approve")
    with pytest.raises(links.DeadLink, match=USED):
        links.read(session, ctx(), token=token)


def test_a_link_expires_after_seven_days_counted_on_the_context_clock(session, request_, host):
    token = links.sign(ctx(now=NOW), booking=request_, user=host, action="approve")
    assert links.read(session, ctx(now=NOW + 7 * D - timedelta(minutes=1)), token=token).action == "approve"
    with pytest.raises(links.DeadLink, match="expiré") as refused:
        links.read(session, ctx(now=NOW + 7 * D + timedelta(seconds=1)), token=token)
    assert refused.value.status_code == 410


def test_a_link_of_a_deleted_request_says_it_no_longer_exists(session, request_, host):
    token = links.sign(ctx(), booking=request_, user=host, action="approve")
    session.delete(request_)
    session.commit()
    with pytest.raises(links.DeadLink, match="n'existe plus"):
        links.read(session, ctx(), token=token)


def test_a_host_link_used_by_someone_else_logged_in_is_refused(session, request_, host, member, make_user):
    token = links.sign(ctx(), booking=request_, user=host, action="approve")
    third = make_user(display_name="Tiers")
    other_host = make_user(hosts=("31",))  # may answer at the desk, but this link is not theirs
    for someone in (third, other_host, member):
        with pytest.raises(Forbidden, match="autre personne"):
            links.read(session, ctx(someone), token=token)
    assert links.read(session, ctx(host), token=token).user.id == host.id


def test_a_host_who_lost_the_role_can_no_longer_use_their_link(session, request_, host):
    token = links.sign(ctx(), booking=request_, user=host, action="approve")
    host.hosted_departements = []
    session.commit()
    with pytest.raises(Forbidden, match="plus hôte"):
        links.read(session, ctx(), token=token)


def test_a_host_moved_to_another_departement_can_no_longer_use_their_link(session, request_, host):
    token = links.sign(ctx(), booking=request_, user=host, action="approve")
    request_.resource.departement_code = "11"  # the item now kept elsewhere, by other hosts
    session.commit()
    with pytest.raises(Forbidden, match="plus hôte"):
        links.read(session, ctx(), token=token)


def test_a_deactivated_account_can_no_longer_use_its_link(session, request_, host):
    token = links.sign(ctx(), booking=request_, user=host, action="approve")
    host.active = False
    session.commit()
    with pytest.raises(Forbidden, match="ne vaut plus"):
        links.read(session, ctx(), token=token)


def test_only_known_actions_are_signed(request_, host):
    with pytest.raises(ValueError):
        links.sign(ctx(), booking=request_, user=host, action="delete")
