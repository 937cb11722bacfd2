"""Items out of service: who may, what it blocks, who is told, another unit or a cancellation."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import unit_of_work
from app.models import AuditEntry, Booking, BookingStatus, Condition, Handover, HandoverKind, OutboxMessage
from app.models import OutOfService as Period
from app.services import availability, booking, maintenance
from app.services.errors import Conflict, Forbidden, RuleViolation
from tests.factories import NOW, ctx

D = timedelta(days=1)
S = BookingStatus


def at(days: float = 0, hours: float = 0):
    return NOW + timedelta(days=days, hours=hours)


@pytest.fixture
def cameras(make_category):
    return make_category(name="Caméra", buffer_hours=0, min_lead_hours=0)


@pytest.fixture
def camera(cameras, make_resource):
    return make_resource(name="Caméra de l'Hérault", category=cameras, departement_code="34")


@pytest.fixture
def host(make_user):
    return make_user(display_name="Inès Hôte", hosts=("34",))


@pytest.fixture
def member(make_user):
    return make_user(display_name="Camille Membre")


def out(session, who, resource, reason="Écran fêlé", **kwargs):
    with unit_of_work(session):
        return maintenance.put_out_of_service(session, ctx(who), resource=resource, reason=reason, **kwargs)


def returned_damaged(session, make_booking, resource, holder, recorder, note="Il manque le câble HDMI"):
    lent = make_booking(resource=resource, user=holder, starts_at=at(-3), ends_at=at(-1), status=S.RETURNED)
    handover = Handover(
        booking_id=lent.id,
        kind=HandoverKind.RETURN,
        recorded_at=at(-1),
        recorded_by_id=recorder.id,
        condition=Condition.INCOMPLETE,
        note=note,
    )
    session.add(handover)
    session.commit()
    return handover


# Who may put an item out of service --------------------------------------------------------------


def test_a_host_of_the_items_departement_puts_it_out_of_service_from_now_on(session, camera, host):
    period = out(session, host, camera)
    assert (period.starts_at, period.ends_at, period.reason) == (NOW, None, "Écran fêlé")
    assert period.created_by_id == host.id
    entry = session.scalar(select(AuditEntry).where(AuditEntry.subject_type == "resource"))
    assert (entry.action, entry.subject_id, entry.note) == ("out-of-service", camera.id, "Écran fêlé")


def test_an_admin_may_put_any_item_out_of_service(session, camera, make_user):
    assert out(session, make_user(roles={"admin"}), camera).ends_at is None


@pytest.mark.parametrize("who", ["member", "host of another département"])
def test_a_member_or_a_host_of_another_departement_may_not(session, camera, make_user, who):
    actor = make_user() if who == "member" else make_user(hosts=("11",))
    with pytest.raises(Forbidden):
        out(session, actor, camera)
    assert session.scalars(select(Period)).all() == []


def test_the_host_who_recorded_the_return_may_put_it_out_of_service_from_that_return(
    session, camera, member, make_user, make_booking
):
    # Hosted the Hérault when they took the item back, no longer does (or an admin's stand-in).
    recorder = make_user(display_name="Ancien hôte")
    handover = returned_damaged(session, make_booking, camera, member, recorder)
    period = out(session, recorder, camera, reason=handover.note, handover=handover)
    assert period.handover_id == handover.id
    with pytest.raises(Forbidden):  # the same person, without the return, is nobody here
        maintenance.proposal(session, ctx(make_user()), handover=handover)


def test_a_host_of_another_departement_may_not_use_someone_elses_return(
    session, camera, member, host, make_user, make_booking
):
    handover = returned_damaged(session, make_booking, camera, member, host)
    with pytest.raises(Forbidden):
        out(session, make_user(hosts=("11",)), camera, handover=handover)


def test_the_proposal_after_a_return_suggests_its_note_as_the_reason(session, camera, member, host, make_booking):
    handover = returned_damaged(session, make_booking, camera, member, host)
    proposal = maintenance.proposal(session, ctx(host), handover=handover)
    assert proposal.reason == "Il manque le câble HDMI"
    assert proposal.resource.id == camera.id and proposal.already is None


def test_an_undone_return_proposes_nothing(session, camera, member, host, make_booking):
    handover = returned_damaged(session, make_booking, camera, member, host)
    handover.undone_at, handover.undone_by_id = at(-1) + timedelta(minutes=5), host.id
    session.commit()
    with pytest.raises(Conflict):
        out(session, host, camera, handover=handover)


def test_a_second_open_period_is_refused(session, camera, host):
    out(session, host, camera)
    with pytest.raises(Conflict) as refused:
        out(session, host, camera, reason="Autre chose")
    assert "déjà hors service" in refused.value.message
    assert len(session.scalars(select(Period)).all()) == 1


def test_a_reason_is_required(session, camera, host):
    with pytest.raises(RuleViolation) as refused:
        out(session, host, camera, reason="   ")
    assert refused.value.field == "reason"


# What it blocks ----------------------------------------------------------------------------------


def test_booking_an_out_of_service_item_is_refused_in_words(session, camera, host, member):
    out(session, host, camera)
    # A refusal in words (the database's own error never reaches anyone), whichever check says it.
    with pytest.raises((RuleViolation, Conflict)) as refused, unit_of_work(session):
        booking.create(session, ctx(member), resource=camera, starts_at=at(2), ends_at=at(3), purpose="")
    assert "hors service" in refused.value.message and "Écran fêlé" in refused.value.message
    assert session.scalars(select(Booking)).all() == []


def test_the_check_refuses_any_period_after_the_start_and_none_after_the_end(session, camera, host):
    period = out(session, host, camera)
    with pytest.raises(RuleViolation) as refused:
        maintenance.check_in_service(session, camera, at(200), at(201))
    assert refused.value.field == "starts_at"
    maintenance.check_in_service(session, camera, at(-3), NOW)  # before: free
    with unit_of_work(session):
        maintenance.back_in_service(session, ctx(host, now=at(1)), period=period)
    maintenance.check_in_service(session, camera, at(2), at(3))
    with pytest.raises(RuleViolation):
        maintenance.check_in_service(session, camera, at(0, 12), at(2))  # over the broken day


# Who is told -------------------------------------------------------------------------------------


def test_each_later_holder_is_emailed_once_per_booking_with_the_link_to_the_offer(
    session, camera, host, member, make_user, make_booking
):
    other = make_user(display_name="Noé Autre")
    first = make_booking(resource=camera, user=member, starts_at=at(2), ends_at=at(3))
    second = make_booking(resource=camera, user=member, starts_at=at(5), ends_at=at(6), status=S.REQUESTED)
    third = make_booking(resource=camera, user=other, starts_at=at(8), ends_at=at(9))
    make_booking(resource=camera, user=other, starts_at=at(10), ends_at=at(11), status=S.CANCELLED)
    make_booking(resource=camera, user=other, starts_at=at(-5), ends_at=at(-4), status=S.RETURNED)
    period = out(session, host, camera)
    mails = session.scalars(select(OutboxMessage)).all()
    assert sorted(m.key for m in mails) == sorted(
        f"booking:{b.id}:out-of-service:{period.id}" for b in (first, second, third)
    )
    assert [m.to_address for m in mails].count(member.email) == 2
    assert all("Écran fêlé" in m.body_text for m in mails)
    mail = next(m for m in mails if m.key.startswith(f"booking:{first.id}:"))
    assert f"/items/bookings/{first.id}/alternatives" in mail.body_text
    # A second attempt is refused and writes nothing more.
    with pytest.raises(Conflict):
        out(session, host, camera)
    assert len(session.scalars(select(OutboxMessage)).all()) == 3


def test_the_affected_bookings_are_those_not_yet_handed_over_for_the_items_hosts(
    session, camera, host, member, make_booking
):
    make_booking(resource=camera, user=member, starts_at=at(-1), ends_at=at(1), status=S.PICKED_UP)
    late_pickup = make_booking(resource=camera, user=member, starts_at=at(1), ends_at=at(2))
    later = make_booking(resource=camera, user=member, starts_at=at(4), ends_at=at(5), status=S.REQUESTED)
    period = out(session, host, camera)
    found = maintenance.affected_bookings(session, ctx(host, now=at(1, 2)), period=period)
    assert [b.id for b in found] == [late_pickup.id, later.id]
    with pytest.raises(Forbidden):
        maintenance.affected_bookings(session, ctx(member), period=period)


# Another unit ------------------------------------------------------------------------------------


@pytest.fixture
def units(cameras, make_resource):
    """Free units of the same category around the Hérault, named by where they are."""
    return {
        code: make_resource(name=f"Caméra {code}", category=cameras, departement_code=code)
        for code in ("65", "31", "81", "34")
    }


def test_the_offer_lists_free_units_nearest_departement_first(
    session, camera, units, host, member, make_resource, make_category, make_booking, make_user
):
    held = make_booking(resource=camera, user=member, starts_at=at(2), ends_at=at(3))
    busy = make_resource(name="Caméra occupée", category=camera.category, departement_code="34")
    make_booking(resource=busy, user=make_user(), starts_at=at(2, 12), ends_at=at(4))
    broken = make_resource(name="Caméra cassée", category=camera.category, departement_code="11")
    make_resource(name="Caméra retirée", category=camera.category, departement_code="34", retired_at=at(-5))
    make_resource(name="Micro", category=make_category(), departement_code="34")
    out(session, make_user(hosts=("11",)), broken)
    out(session, host, camera)
    offer = maintenance.alternatives(session, ctx(member), booking=held)
    assert offer.period is not None
    assert [a.resource.name for a in offer.alternatives] == ["Caméra 34", "Caméra 81", "Caméra 31", "Caméra 65"]
    assert [a.elsewhere for a in offer.alternatives] == [False, True, True, True]
    assert [a.distance for a in offer.alternatives] == [0, 1, 2, 3]


def test_only_the_holder_sees_the_offer(session, camera, units, host, member, make_user, make_booking):
    held = make_booking(resource=camera, user=member, starts_at=at(2), ends_at=at(3))
    out(session, host, camera)
    for stranger in (make_user(), host):
        with pytest.raises(Forbidden):
            maintenance.alternatives(session, ctx(stranger), booking=held)


def test_the_holder_takes_another_unit_in_one_tap(session, camera, units, host, member, make_booking):
    held = make_booking(resource=camera, user=member, starts_at=at(2), ends_at=at(3))
    out(session, host, camera)
    with unit_of_work(session):
        maintenance.swap_unit(session, ctx(member), booking=held, resource=units["81"])
    session.expire_all()
    moved = session.get(Booking, held.id)
    assert moved.resource_id == units["81"].id and moved.status == S.APPROVED and moved.sequence == 1
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "swap"))
    assert entry.subject_id == held.id and "→ Caméra 81 (81)" in entry.note


def test_a_swap_to_another_departement_tells_its_hosts(session, camera, units, host, member, make_user, make_booking):
    tarn = make_user(display_name="Hôte du Tarn", hosts=("81",))
    held = make_booking(resource=camera, user=member, starts_at=at(2), ends_at=at(3))
    out(session, host, camera)
    with unit_of_work(session):
        maintenance.swap_unit(session, ctx(member), booking=held, resource=units["81"])
    told = session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == tarn.email))
    assert "Camille Membre" in told.body_text and "Caméra de l'Hérault" in told.body_text


def test_swapping_onto_a_busy_unit_is_refused(session, camera, units, host, member, make_user, make_booking):
    held = make_booking(resource=camera, user=member, starts_at=at(2), ends_at=at(3))
    make_booking(resource=units["81"], user=make_user(), starts_at=at(2, 12), ends_at=at(4))
    out(session, host, camera)
    with pytest.raises(Conflict) as refused, unit_of_work(session):
        maintenance.swap_unit(session, ctx(member), booking=held, resource=units["81"])
    assert refused.value.message == "« Caméra 81 » est déjà réservé à ces dates."
    session.expire_all()
    assert session.get(Booking, held.id).resource_id == camera.id


def test_swapping_onto_an_out_of_service_unit_is_refused(session, camera, units, host, member, make_user, make_booking):
    held = make_booking(resource=camera, user=member, starts_at=at(2), ends_at=at(3))
    out(session, host, camera)
    out(session, make_user(hosts=("81",)), units["81"], reason="Batterie morte")
    with pytest.raises(RuleViolation) as refused, unit_of_work(session):
        maintenance.swap_unit(session, ctx(member), booking=held, resource=units["81"])
    assert "Batterie morte" in refused.value.message


def test_swapping_onto_another_category_is_refused(session, camera, host, member, make_resource, make_booking):
    held = make_booking(resource=camera, user=member, starts_at=at(2), ends_at=at(3))
    out(session, host, camera)
    with pytest.raises(RuleViolation), unit_of_work(session):
        maintenance.swap_unit(session, ctx(member), booking=held, resource=make_resource(departement_code="34"))


def test_the_databases_refusal_of_a_swap_becomes_a_conflict(
    session, camera, units, host, member, make_user, make_booking, monkeypatch
):
    """Checks passed, then the unit was taken meanwhile: the database has the last word."""
    held = make_booking(resource=camera, user=member, starts_at=at(2), ends_at=at(3))
    make_booking(resource=units["81"], user=make_user(), starts_at=at(2), ends_at=at(3))
    out(session, host, camera)
    monkeypatch.setattr(availability, "conflicts", lambda *args, **kwargs: [])
    with pytest.raises(Conflict) as refused, unit_of_work(session):
        maintenance.swap_unit(session, ctx(member), booking=held, resource=units["81"])
    assert "vient d'être réservé" in refused.value.message


def test_a_stranger_may_not_swap_and_the_holder_only_when_the_item_is_out_of_service(
    session, camera, units, host, member, make_user, make_booking
):
    held = make_booking(resource=camera, user=member, starts_at=at(2), ends_at=at(3))
    with pytest.raises(Forbidden), unit_of_work(session):
        maintenance.swap_unit(session, ctx(make_user()), booking=held, resource=units["34"])
    with pytest.raises(Forbidden), unit_of_work(session):
        maintenance.swap_unit(session, ctx(make_user(hosts=("81",))), booking=held, resource=units["81"])
    with pytest.raises(RuleViolation), unit_of_work(session):
        maintenance.swap_unit(session, ctx(member), booking=held, resource=units["34"])
    # The item's host may move a booking at any time.
    with unit_of_work(session):
        maintenance.swap_unit(session, ctx(host), booking=held, resource=units["34"])
    session.expire_all()
    assert session.get(Booking, held.id).resource_id == units["34"].id


def test_a_booking_already_handed_over_cannot_be_swapped(session, camera, units, host, member, make_booking):
    held = make_booking(resource=camera, user=member, starts_at=at(-1), ends_at=at(3), status=S.PICKED_UP)
    with pytest.raises(Conflict), unit_of_work(session):
        maintenance.swap_unit(session, ctx(host), booking=held, resource=units["34"])


def test_the_holder_may_cancel_instead(session, camera, host, member, make_user, make_booking):
    held = make_booking(resource=camera, user=member, starts_at=at(2), ends_at=at(3))
    out(session, host, camera)
    for other in (make_user(), host):  # the host cancels from the desk, saying why
        with pytest.raises(Forbidden), unit_of_work(session):
            maintenance.cancel_instead(session, ctx(other), booking=held)
    with unit_of_work(session):
        maintenance.cancel_instead(session, ctx(member), booking=held)
    session.expire_all()
    cancelled = session.get(Booking, held.id)
    assert cancelled.status == S.CANCELLED and cancelled.decision_reason == "Objet hors service"


# The repair log and back in service ------------------------------------------------------------


def test_the_items_host_keeps_a_repair_log(session, camera, host, member):
    period = out(session, host, camera)
    with unit_of_work(session):
        maintenance.add_repair_note(session, ctx(host, now=at(1)), period=period, note="Écran commandé")
    with pytest.raises(Forbidden), unit_of_work(session):
        maintenance.add_repair_note(session, ctx(member, now=at(1)), period=period, note="Moi aussi")
    with pytest.raises(RuleViolation), unit_of_work(session):
        maintenance.add_repair_note(session, ctx(host, now=at(1)), period=period, note=" ")
    session.expire_all()
    assert [(n.note, n.author_id, n.at) for n in session.get(Period, period.id).repairs] == [
        ("Écran commandé", host.id, at(1))
    ]


def test_back_in_service_ends_the_period_now_audited_once(session, camera, host, member):
    period = out(session, host, camera)
    with pytest.raises(Forbidden), unit_of_work(session):
        maintenance.back_in_service(session, ctx(member, now=at(2)), period=period)
    with unit_of_work(session):
        maintenance.back_in_service(session, ctx(host, now=at(2)), period=period)
    session.expire_all()
    ended = session.get(Period, period.id)
    assert (ended.ends_at, ended.ended_by_id) == (at(2), host.id)
    assert maintenance.open_period(session, camera.id) is None
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.subject_type == "resource").order_by(AuditEntry.id)
    ).all()
    assert actions == ["out-of-service", "back-in-service"]
    with pytest.raises(Conflict), unit_of_work(session):
        maintenance.back_in_service(session, ctx(host, now=at(3)), period=ended)
    with pytest.raises(Conflict), unit_of_work(session):
        maintenance.add_repair_note(session, ctx(host, now=at(3)), period=ended, note="Trop tard")
    # And it can go out again: a new period, a new email to each later holder.
    assert out(session, host, camera, reason="Encore").id != period.id


def test_back_in_service_the_instant_it_went_out_still_lasts_a_second(session, camera, host):
    period = out(session, host, camera)
    with unit_of_work(session):
        ended = maintenance.back_in_service(session, ctx(host), period=period)
    assert ended.ends_at == NOW + timedelta(seconds=1)


def test_the_items_page_is_for_its_hosts_and_admins_with_whom_it_would_touch(
    session, camera, host, member, make_user, make_booking
):
    later = make_booking(resource=camera, user=member, starts_at=at(2), ends_at=at(3))
    for stranger in (member, make_user(hosts=("11",))):
        with pytest.raises(Forbidden):
            maintenance.overview(session, ctx(stranger), resource=camera)
    before = maintenance.overview(session, ctx(make_user(roles={"admin"})), resource=camera)
    assert (before.period, before.periods, [b.id for b in before.affected]) == (None, [], [later.id])
    period = out(session, host, camera)
    after = maintenance.overview(session, ctx(host), resource=camera)
    assert after.period.id == period.id and [p.id for p in after.periods] == [period.id]
    assert [b.id for b in after.affected] == [later.id]


def test_the_offer_stops_at_the_nearest_ten(session, camera, host, member, make_resource, make_booking):
    held = make_booking(resource=camera, user=member, starts_at=at(2), ends_at=at(3))
    for n in range(12):
        make_resource(name=f"Caméra 81-{n:02d}", category=camera.category, departement_code="81")
    make_resource(name="Caméra 34", category=camera.category, departement_code="34")
    out(session, host, camera)
    offered = [a.resource.name for a in maintenance.alternatives(session, ctx(member), booking=held).alternatives]
    assert offered == ["Caméra 34", *[f"Caméra 81-{n:02d}" for n in range(maintenance.OFFERED - 1)]]
