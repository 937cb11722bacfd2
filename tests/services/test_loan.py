"""The physical loan at the desk: what a handover records, and undoing a mis-tap."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import unit_of_work
from app.models import AuditEntry, Booking, Handover, HandoverKind, OutboxMessage
from app.services import desk, loan
from app.services.errors import Conflict, Forbidden, NotFound, RuleViolation
from tests.factories import NOW, ctx

MIN = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)
CONTENTS = "Caméra\n2 batteries\nChargeur\nCarte SD 64 Go"


@pytest.fixture
def host(make_user):
    return make_user(display_name="Inès Vidal", hosts=("31",))


@pytest.fixture
def member(make_user):
    return make_user(display_name="Camille Martin", phone="06 12 34 56 78")


@pytest.fixture
def kit(make_resource):
    return make_resource(name="Kit vidéo", departement_code="31", contents=CONTENTS)


@pytest.fixture
def approved(make_booking, kit, member):
    """Approved, starting in an hour, for a day."""
    return make_booking(resource=kit, user=member, starts_at=NOW + H, ends_at=NOW + D)


@pytest.fixture
def out(session, approved, host):
    """The same booking, handed over complete at NOW + 1 h."""
    with unit_of_work(session):
        loan.record_pickup(session, ctx(host, now=NOW + H), booking=approved, checked=approved.resource.contents_lines)
    return approved


def handovers(session):
    return session.scalars(select(Handover).order_by(Handover.id)).all()


# Recording a handover -----------------------------------------------------------------------


def test_a_pickup_writes_a_handover_with_the_lines_ticked_and_moves_the_booking(session, approved, host):
    with unit_of_work(session):
        made = loan.record_pickup(
            session,
            ctx(host, now=NOW + H),
            booking=approved,
            checked=["Chargeur", "Caméra", "2 batteries", "Carte SD 64 Go"],
            condition="ok",
            note="Batterie chargée",
        )
    session.expire_all()
    assert made.kind is HandoverKind.PICKUP and made.recorded_by_id == host.id and made.recorded_at == NOW + H
    assert made.checked == ["Caméra", "2 batteries", "Chargeur", "Carte SD 64 Go"]  # the item's own order
    assert made.condition == "ok" and made.note == "Batterie chargée" and made.photo is None
    booking = session.get(Booking, approved.id)
    assert booking.status == "picked_up" and booking.handed_over_by_id == host.id
    assert session.scalar(select(AuditEntry.action).order_by(AuditEntry.id.desc())) == "pickup"


def test_a_ticked_line_that_is_not_among_the_contents_is_refused(session, approved, host):
    with pytest.raises(RuleViolation) as refused, unit_of_work(session):
        loan.record_pickup(
            session, ctx(host, now=NOW + H), booking=approved, checked=["Caméra", "Trépied"], condition="incomplete"
        )
    assert refused.value.field == "checked" and "Trépied" in refused.value.message
    session.expire_all()
    assert session.get(Booking, approved.id).status == "approved" and handovers(session) == []


def test_lines_left_unticked_at_return_are_named_as_missing(session, out, host):
    with unit_of_work(session):
        made = loan.record_return(
            session,
            ctx(host, now=NOW + D),
            booking=out,
            checked=["Caméra", "2 batteries", "Carte SD 64 Go"],
            condition="incomplete",
        )
    session.expire_all()
    assert made.condition == "incomplete" and made.note == "Manque : Chargeur."
    booking = session.get(Booking, out.id)
    assert (booking.status, booking.condition, booking.condition_note) == (
        "returned",
        "incomplete",
        "Manque : Chargeur.",
    )


def test_lines_left_unticked_at_pickup_are_recorded_as_missing(session, approved, host):
    with unit_of_work(session):
        made = loan.record_pickup(
            session, ctx(host, now=NOW + H), booking=approved, checked=["Caméra", "Chargeur"], condition="incomplete"
        )
    assert made.condition == "incomplete" and made.note == "Manque : 2 batteries, Carte SD 64 Go."


def test_damaged_stays_damaged_when_a_line_is_missing_too(session, out, host):
    with unit_of_work(session):
        made = loan.record_return(
            session,
            ctx(host, now=NOW + D),
            booking=out,
            checked=["Caméra", "2 batteries", "Chargeur"],
            condition="damaged",
            note="Écran fêlé",
        )
    assert made.condition == "damaged" and made.note == "Manque : Carte SD 64 Go. Écran fêlé"


@pytest.mark.parametrize("condition", ["incomplete", "damaged"])
def test_incomplete_or_damaged_with_everything_ticked_needs_a_note(session, out, host, condition):
    everything = out.resource.contents_lines
    with pytest.raises(RuleViolation) as refused, unit_of_work(session):
        loan.record_return(session, ctx(host, now=NOW + D), booking=out, checked=everything, condition=condition)
    assert refused.value.field == "note"
    with unit_of_work(session):
        made = loan.record_return(
            session, ctx(host, now=NOW + D), booking=out, checked=everything, condition=condition, note="Rayure"
        )
    assert made.condition == condition


def test_an_unknown_condition_is_refused(session, out, host):
    with pytest.raises(RuleViolation) as refused, unit_of_work(session):
        loan.record_return(session, ctx(host, now=NOW + D), booking=out, condition="lost-in-space", note="?")
    assert refused.value.field == "condition"


def test_a_return_ok_with_everything_ticked_keeps_the_booking_in_step(session, out, host):
    with unit_of_work(session):
        loan.record_return(session, ctx(host, now=NOW + D), booking=out, checked=out.resource.contents_lines)
    session.expire_all()
    booking = session.get(Booking, out.id)
    assert (booking.condition, booking.condition_note, booking.received_by_id) == ("ok", None, host.id)
    assert [h.kind for h in handovers(session)] == ["pickup", "return"]


@pytest.mark.parametrize("action", ["pickup", "return", "no_show"])
def test_online_accounts_are_never_handed_over_at_the_desk(
    session, make_category, make_resource, make_booking, member, host, action
):
    zoom = make_resource(category=make_category(needs_pickup=False), departement_code="31")
    status = "picked_up" if action == "return" else "approved"
    made = make_booking(resource=zoom, user=member, starts_at=NOW - H, ends_at=NOW + D, status=status)
    with pytest.raises(RuleViolation), unit_of_work(session):
        {
            "pickup": lambda: loan.record_pickup(session, ctx(host), booking=made),
            "return": lambda: loan.record_return(session, ctx(host), booking=made),
            "no_show": lambda: loan.mark_no_show(session, ctx(host), booking=made),
        }[action]()
    session.expire_all()
    assert session.get(Booking, made.id).status == status


def test_only_the_resources_hosts_record_a_return(session, out, make_user, member):
    for outsider in (member, make_user(hosts=("34",))):
        with pytest.raises(Forbidden), unit_of_work(session):
            loan.record_return(session, ctx(outsider, now=NOW + D), booking=out, checked=out.resource.contents_lines)
    session.expire_all()
    assert session.get(Booking, out.id).status == "picked_up"


def test_the_borrowers_receipt_waits_for_the_undo_window(session, approved, host, member):
    with unit_of_work(session):
        made = loan.record_pickup(
            session, ctx(host, now=NOW + H), booking=approved, checked=["Caméra"], condition="incomplete"
        )
    receipt = session.scalar(select(OutboxMessage).where(OutboxMessage.key == f"handover:{made.id}:receipt"))
    assert receipt.to_address == member.email and receipt.next_attempt_at == NOW + H + loan.UNDO_WINDOW
    assert (
        "Inès Vidal" in receipt.body_text and "[ ] Chargeur" in receipt.body_text and "[x] Caméra" in receipt.body_text
    )


# Undo ---------------------------------------------------------------------------------------


def test_the_same_host_undoes_a_pickup_within_15_minutes(session, out, host):
    pickup = handovers(session)[0]
    with unit_of_work(session):
        loan.undo(session, ctx(host, now=NOW + H + 15 * MIN), booking=out)
    session.expire_all()
    booking = session.get(Booking, out.id)
    assert (booking.status, booking.picked_up_at, booking.handed_over_by_id) == ("approved", None, None)
    undone = session.get(Handover, pickup.id)
    assert undone.undone_at == NOW + H + 15 * MIN and undone.undone_by_id == host.id
    entry = session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()))
    assert (entry.action, entry.from_state, entry.to_state, entry.actor_id) == (
        "undo",
        "picked_up",
        "approved",
        host.id,
    )
    assert session.scalar(select(OutboxMessage).where(OutboxMessage.key == f"handover:{pickup.id}:receipt")) is None
    # The live-handover index lets the pickup be recorded again, for real this time.
    with unit_of_work(session):
        again = loan.record_pickup(
            session, ctx(host, now=NOW + 2 * H), booking=booking, checked=["Caméra"], condition="incomplete"
        )
    assert again.id != pickup.id and len(handovers(session)) == 2


def test_the_same_host_undoes_a_return_and_the_booking_is_out_again(session, out, host):
    with unit_of_work(session):
        loan.record_return(session, ctx(host, now=NOW + D), booking=out, checked=["Caméra"], condition="incomplete")
    with unit_of_work(session):
        loan.undo(session, ctx(host, now=NOW + D + 5 * MIN), booking=out)
    session.expire_all()
    booking = session.get(Booking, out.id)
    assert (booking.status, booking.returned_at, booking.condition, booking.condition_note) == (
        "picked_up",
        None,
        None,
        None,
    )
    assert [h.undone_at is None for h in handovers(session)] == [True, False]


def test_the_same_host_undoes_a_no_show(session, approved, host):
    with unit_of_work(session):
        loan.mark_no_show(session, ctx(host, now=NOW + 2 * H), booking=approved)
    with unit_of_work(session):
        loan.undo(session, ctx(host, now=NOW + 2 * H + 10 * MIN), booking=approved)
    session.expire_all()
    assert session.get(Booking, approved.id).status == "approved"


@pytest.mark.parametrize("late", [15 * MIN + timedelta(seconds=1), 2 * H])
def test_an_undo_after_15_minutes_is_refused_with_a_message(session, out, host, late):
    with pytest.raises(RuleViolation) as refused, unit_of_work(session):
        loan.undo(session, ctx(host, now=NOW + H + late), booking=out)
    assert "15 minutes" in refused.value.message
    session.expire_all()
    assert session.get(Booking, out.id).status == "picked_up"


def test_a_no_show_undo_after_15_minutes_is_refused(session, approved, host):
    with unit_of_work(session):
        loan.mark_no_show(session, ctx(host, now=NOW + 2 * H), booking=approved)
    with pytest.raises(RuleViolation), unit_of_work(session):
        loan.undo(session, ctx(host, now=NOW + 2 * H + 16 * MIN), booking=approved)


@pytest.mark.parametrize("who", ["co_host", "admin"])
def test_another_person_cannot_undo_a_hosts_gesture(session, out, make_user, who):
    other = make_user(hosts=("31",)) if who == "co_host" else make_user(roles={"admin"})
    with pytest.raises(Forbidden) as refused, unit_of_work(session):
        loan.undo(session, ctx(other, now=NOW + H + MIN), booking=out)
    assert "personne qui a enregistré" in refused.value.message
    session.expire_all()
    assert session.get(Booking, out.id).status == "picked_up"


def test_someone_who_is_not_a_host_here_cannot_undo(session, out, member):
    with pytest.raises(Forbidden), unit_of_work(session):
        loan.undo(session, ctx(member, now=NOW + H + MIN), booking=out)


def test_there_is_nothing_to_undo_on_a_booking_not_handed_over(session, approved, host):
    with pytest.raises(RuleViolation), unit_of_work(session):
        loan.undo(session, ctx(host, now=NOW + H), booking=approved)


def test_undoing_a_no_show_is_refused_when_the_slot_was_booked_meanwhile(
    session, approved, host, make_user, make_booking
):
    with unit_of_work(session):
        loan.mark_no_show(session, ctx(host, now=NOW + 2 * H), booking=approved)
    make_booking(resource=approved.resource, user=make_user(), starts_at=NOW + 3 * H, ends_at=NOW + 5 * H)
    with pytest.raises(Conflict), unit_of_work(session):
        loan.undo(session, ctx(host, now=NOW + 2 * H + 5 * MIN), booking=approved)
    session.expire_all()
    assert session.get(Booking, approved.id).status == "no_show"


def test_the_desk_lists_only_my_own_gestures_still_undoable(session, out, host, make_user):
    mine = desk.overview(session, ctx(host, now=NOW + H + 14 * MIN), codes=["31"]).recent
    assert [(last.booking.id, last.action) for last in mine] == [(out.id, "pickup")]
    assert desk.overview(session, ctx(host, now=NOW + H + 16 * MIN), codes=["31"]).recent == []
    co_host = make_user(hosts=("31",))
    assert desk.overview(session, ctx(co_host, now=NOW + H + MIN), codes=["31"]).recent == []


# Who sees a photo ---------------------------------------------------------------------------


def test_a_photo_is_shown_to_the_holder_the_hosts_and_admins_only(session, out, host, member, make_user):
    pickup = handovers(session)[0]
    name = "0123456789abcdef0123456789abcdef.jpg"
    pickup.photo = name
    session.commit()
    for allowed in (member, host, make_user(roles={"admin"})):
        assert loan.photo(session, ctx(allowed), name=name).id == pickup.id
    for outsider in (make_user(), make_user(hosts=("34",))):
        with pytest.raises(Forbidden):
            loan.photo(session, ctx(outsider), name=name)
    for unknown in ("ffffffffffffffffffffffffffffffff.jpg", "../secret_key", "photo.jpg"):
        with pytest.raises(NotFound):
            loan.photo(session, ctx(host), name=unknown)


def test_a_host_who_no_longer_hosts_the_departement_cannot_undo(session, out, host):
    host.hosted_departements = []
    session.commit()
    with pytest.raises(Forbidden), unit_of_work(session):
        loan.undo(session, ctx(host, now=NOW + H + MIN), booking=out)


def test_a_colleagues_later_gesture_takes_my_undo_away(session, out, host, make_user):
    co_host = make_user(hosts=("31",))
    with unit_of_work(session):
        loan.record_return(
            session, ctx(co_host, now=NOW + H + 5 * MIN), booking=out, checked=out.resource.contents_lines
        )
    assert desk.overview(session, ctx(host, now=NOW + H + 6 * MIN), codes=["31"]).recent == []
    with pytest.raises(Forbidden), unit_of_work(session):
        loan.undo(session, ctx(host, now=NOW + H + 6 * MIN), booking=out)
    assert [
        last.action for last in desk.overview(session, ctx(co_host, now=NOW + H + 6 * MIN), codes=["31"]).recent
    ] == ["return"]


def test_complete_with_lines_left_unticked_is_refused_rather_than_overruled(session, out, host):
    with pytest.raises(RuleViolation) as refused, unit_of_work(session):
        loan.record_return(session, ctx(host, now=NOW + D), booking=out, checked=["Caméra"], condition="ok")
    assert refused.value.field == "checked" and "3 éléments ne sont pas cochés" in refused.value.message
    session.expire_all()
    assert session.get(Booking, out.id).status == "picked_up"
