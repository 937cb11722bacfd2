"""The borrower confirms a handover on their own phone; the loan form gathers the whole loan."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import unit_of_work
from app.models import AuditEntry, BookingStatus, Condition, Handover, HandoverKind, Organisation
from app.services import receipts
from app.services.errors import Conflict, Forbidden, NotFound
from tests.factories import NOW, ctx

H = timedelta(hours=1)


@pytest.fixture
def host(make_user):
    return make_user(display_name="Inès Vidal", hosts=("11",))


@pytest.fixture
def holder(make_user):
    return make_user(display_name="Camille Martin", phone="06 12 34 56 78")


@pytest.fixture
def camera(make_resource, make_category):
    return make_resource(
        name="Caméra Sony",
        category=make_category(name="Caméra"),
        departement_code="11",
        contents="caméra\n2 batteries\nchargeur",
        inventory_code="11-0042",
    )


@pytest.fixture
def loan(make_booking, camera, holder):
    return make_booking(
        resource=camera, user=holder, starts_at=NOW - 2 * H, ends_at=NOW + 48 * H, status=BookingStatus.PICKED_UP
    )


def handed_over(session, booking, host, *, kind=HandoverKind.PICKUP, checked=None, at=NOW - H, **values):
    """A handover as the desk records it (written directly: the desk's rules are tested elsewhere)."""
    handover = Handover(
        booking_id=booking.id,
        kind=kind,
        recorded_at=at,
        recorded_by_id=host.id,
        condition=values.pop("condition", Condition.OK),
        note=values.pop("note", ""),
        **values,
    )
    handover.checked = checked if checked is not None else booking.resource.contents_lines
    session.add(handover)
    session.commit()
    return handover


def confirm(session, actor, handover, now=NOW):
    with unit_of_work(session):
        return receipts.confirm(session, ctx(actor, now=now), handover=handover)


def test_the_holder_confirms_what_they_received_and_both_times_are_kept(session, loan, host, holder):
    handover = handed_over(session, loan, host)
    confirm(session, holder, handover)
    session.expire_all()
    kept = session.get(Handover, handover.id)
    assert kept.recorded_at == NOW - H and kept.recorded_by_id == host.id
    assert kept.confirmed_at == NOW and kept.confirmed_by_id == holder.id
    entry = session.scalar(select(AuditEntry).where(AuditEntry.subject_type == "booking"))
    assert (entry.action, entry.subject_id, entry.actor_id) == ("confirm-pickup", loan.id, holder.id)


def test_the_holder_confirms_a_return_too(session, loan, host, holder):
    handed_over(session, loan, host)
    back = handed_over(session, loan, host, kind=HandoverKind.RETURN, at=NOW)
    confirm(session, holder, back, now=NOW + H)
    assert session.get(Handover, back.id).confirmed_at == NOW + H
    assert session.scalar(select(AuditEntry.action)) == "confirm-return"


def test_a_host_cannot_confirm_in_the_borrowers_place(session, loan, host):
    handover = handed_over(session, loan, host)
    with pytest.raises(Forbidden):
        confirm(session, host, handover)
    assert session.get(Handover, handover.id).confirmed_at is None


def test_an_admin_cannot_confirm_in_the_borrowers_place(session, loan, host, make_user):
    handover = handed_over(session, loan, host)
    with pytest.raises(Forbidden):
        confirm(session, make_user(roles={"admin"}), handover)
    assert session.get(Handover, handover.id).confirmed_at is None


def test_another_member_cannot_confirm(session, loan, host, make_user):
    handover = handed_over(session, loan, host)
    with pytest.raises(Forbidden):
        confirm(session, make_user(), handover)


def test_nobody_logged_in_cannot_confirm(session, loan, host):
    handover = handed_over(session, loan, host)
    with pytest.raises(Forbidden):
        confirm(session, None, handover)


def test_confirming_twice_keeps_the_first_time_and_one_entry(session, loan, host, holder):
    handover = handed_over(session, loan, host)
    confirm(session, holder, handover)
    confirm(session, holder, handover, now=NOW + H)
    assert session.get(Handover, handover.id).confirmed_at == NOW
    assert len(session.scalars(select(AuditEntry)).all()) == 1


def test_a_handover_the_host_undid_cannot_be_confirmed(session, loan, host, holder):
    handover = handed_over(session, loan, host, undone_at=NOW - H / 2, undone_by_id=host.id)
    with pytest.raises(Conflict):
        confirm(session, holder, handover)
    assert session.get(Handover, handover.id).confirmed_at is None


def test_the_receipt_shows_the_live_records_and_what_is_left_to_confirm(session, loan, host, holder):
    undone = handed_over(session, loan, host, at=NOW - 2 * H, undone_at=NOW - 2 * H, undone_by_id=host.id)
    out = handed_over(session, loan, host)
    seen = receipts.receipt(session, ctx(holder), booking_id=loan.id)
    assert seen.pickup.id == out.id and seen.back is None
    assert [h.id for h in seen.undone] == [undone.id]
    assert seen.pending.id == out.id
    assert receipts.can_confirm(holder, out) and not receipts.can_confirm(host, out)
    confirm(session, holder, out)
    assert receipts.receipt(session, ctx(host), booking_id=loan.id).pending is None


def test_the_receipt_and_the_loan_form_are_for_the_holder_the_hosts_and_admins(session, loan, host, holder, make_user):
    for reader in (holder, host, make_user(roles={"admin"})):
        assert receipts.receipt(session, ctx(reader), booking_id=loan.id).booking.id == loan.id
        assert receipts.loan_form(session, ctx(reader), booking_id=loan.id).booking.id == loan.id
    stranger = make_user()
    with pytest.raises(Forbidden):
        receipts.receipt(session, ctx(stranger), booking_id=loan.id)
    with pytest.raises(Forbidden):
        receipts.loan_form(session, ctx(stranger), booking_id=loan.id)
    other_host = make_user(hosts=("34",))
    with pytest.raises(Forbidden):
        receipts.loan_form(session, ctx(other_host), booking_id=loan.id)


def test_the_loan_form_ticks_the_contents_as_recorded_out_and_back(session, loan, host, holder, make_pickup_point):
    make_pickup_point(departement_code="11", hours=[(0, "09:00", "12:00")])
    holder.organisation = Organisation(name="Les Petits Débrouillards")
    session.commit()
    handed_over(session, loan, host)
    handed_over(
        session,
        loan,
        host,
        kind=HandoverKind.RETURN,
        at=NOW,
        checked=["caméra", "chargeur"],
        condition=Condition.INCOMPLETE,
        note="Il manque une batterie.",
    )
    sheet = receipts.loan_form(session, ctx(host), booking_id=loan.id)
    assert [(line.label, line.out, line.back) for line in sheet.contents] == [
        ("caméra", True, True),
        ("2 batteries", True, False),
        ("chargeur", True, True),
    ]
    assert sheet.holder.organisation.name == "Les Petits Débrouillards"
    assert sheet.point is not None and sheet.hours == ["lundi : 9\u00a0h\u00a000 – 12\u00a0h\u00a000"]


def test_before_any_handover_the_boxes_are_left_to_tick_by_hand(session, loan, holder):
    sheet = receipts.loan_form(session, ctx(holder), booking_id=loan.id)
    assert {(line.out, line.back) for line in sheet.contents} == {(None, None)}


def test_an_online_account_has_no_receipt_page(session, make_resource, make_category, make_booking, holder):
    zoom = make_resource(category=make_category(needs_pickup=False), departement_code="11")
    held = make_booking(resource=zoom, user=holder, starts_at=NOW, ends_at=NOW + H)
    with pytest.raises(NotFound):
        receipts.receipt(session, ctx(holder), booking_id=held.id)
