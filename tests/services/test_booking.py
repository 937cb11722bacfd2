"""The booking rules, called directly with an explicit `now`."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from app.db import StrayWrite, unit_of_work
from app.models import AuditEntry, Blackout, Booking, OutboxMessage, Resource
from app.services import availability, blackouts, booking, catalogue, credentials, loan
from app.services.errors import Conflict, Forbidden, RuleViolation
from tests.factories import NOW, ctx

PARIS = ZoneInfo("Europe/Paris")
H = timedelta(hours=1)
D = timedelta(days=1)


def at(days: float = 0, hours: float = 0) -> datetime:
    return NOW + timedelta(days=days, hours=hours)


@pytest.fixture
def camera(make_category, make_resource):
    category = make_category(
        name="Caméra", buffer_hours=12, max_duration_hours=72, min_lead_hours=24, max_advance_days=60
    )
    return make_resource(name="Caméra Sony", category=category, departement_code="11")


@pytest.fixture
def member(make_user):
    return make_user(display_name="Léa Membre")


@pytest.fixture
def host(make_user):
    return make_user(display_name="Martin Hôte", hosts=("11",))


def book(session, resource, user, start, end, purpose="Tournage"):
    return booking.create(session, ctx(user, now=NOW), resource=resource, starts_at=start, ends_at=end, purpose=purpose)


def test_a_member_requests_and_the_host_is_emailed(session, camera, member, host):
    made = book(session, camera, member, at(2), at(3))
    assert made.status == "requested"
    assert made.held_until == at(3) + 12 * H
    mail = session.scalar(select(OutboxMessage))
    assert mail.to_address == host.email
    assert "Léa Membre" in mail.body_text and "Caméra Sony" in mail.body_text


def test_a_category_without_approval_confirms_at_once(session, make_category, make_resource, member):
    zoom = make_resource(category=make_category(needs_approval=False, needs_pickup=False))
    assert book(session, zoom, member, at(2), at(2, 2)).status == "approved"


def test_an_unapproved_member_cannot_book(session, camera, make_user):
    with pytest.raises(Forbidden):
        book(session, camera, make_user(approved=False), at(2), at(3))
    assert session.scalars(select(Booking)).all() == []


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (at(3), at(2), "ends_at"),  # end before start
        (at(2), at(2), "ends_at"),  # zero length
        (at(-1), at(1), "starts_at"),  # in the past
        (at(0, 5), at(2), "starts_at"),  # inside the 24 h lead time
        (at(61), at(62), "starts_at"),  # beyond the 60-day horizon
        (at(2), at(6), "ends_at"),  # longer than 72 h
    ],
)
def test_periods_that_break_a_category_rule_are_refused(session, camera, member, start, end, field):
    with pytest.raises(RuleViolation) as refused:
        book(session, camera, member, start, end)
    assert refused.value.field == field
    assert session.scalars(select(Booking)).all() == []


def test_overlaps_are_refused_buffer_included_and_the_next_free_slot_is_named(session, app, camera, member, make_user):
    book(session, camera, member, at(2), at(3))  # held until at(3) + 12 h
    other = make_user()
    with app.test_request_context("/"), pytest.raises(Conflict) as refused:
        book(session, camera, other, at(3, 6), at(4))
    assert "battement" in refused.value.message
    # 10:00 Paris + 3 days + 12 h → the slot frees at 22:00 Paris on 14 January; a person is
    # offered the next morning rather than the middle of the night.
    assert "vendredi 15 janvier 2027, 9\u00a0h\u00a000" in refused.value.message
    assert refused.value.suggestion[0] == datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
    # Right at the end of the buffer is fine (half-open periods).
    assert book(session, camera, other, at(3, 12), at(4)).status == "requested"


def test_a_rejected_or_cancelled_booking_frees_the_slot(session, camera, member, host, make_user):
    first = book(session, camera, member, at(2), at(3))
    booking.reject(session, ctx(host, now=NOW), booking=first, reason="Déjà prêtée hors La Malle")
    second = book(session, camera, make_user(), at(2), at(3))
    booking.cancel(session, ctx(second.user, now=NOW), booking=second)
    assert book(session, camera, member, at(2), at(3)).status == "requested"


def test_a_blackout_closes_the_store_with_its_reason(session, camera, member, host):
    blackouts.create(
        session, ctx(host, now=NOW), departement_code="11", starts_at=at(5), ends_at=at(12), reason="Congés de l'hôte"
    )
    with pytest.raises(Conflict) as refused:
        book(session, camera, member, at(6), at(7))
    assert "Congés de l'hôte" in refused.value.message


def test_a_blackout_over_existing_bookings_is_refused(session, camera, member, host):
    book(session, camera, member, at(6), at(7))
    with pytest.raises(Conflict):
        blackouts.create(
            session, ctx(host, now=NOW), departement_code="11", starts_at=at(5), ends_at=at(12), reason="Congés"
        )


def test_a_host_of_another_departement_cannot_close_this_one(session, make_user):
    with pytest.raises(Forbidden):
        blackouts.create(
            session,
            ctx(make_user(hosts=("34",)), now=NOW),
            departement_code="11",
            starts_at=at(5),
            ends_at=at(6),
            reason="x",
        )


def test_the_per_member_limit_counts_active_bookings_of_the_category(session, make_category, make_resource, member):
    category = make_category(per_member_limit=1)
    first, second = make_resource(category=category), make_resource(category=category)
    book(session, first, member, at(2), at(3))
    with pytest.raises(RuleViolation):
        book(session, second, member, at(5), at(6))


def test_the_full_life_of_a_camera_loan(session, camera, member, host):
    made = book(session, camera, member, at(2), at(3))
    booking.approve(session, ctx(host, now=at(0, 1)), booking=made)
    loan.record_pickup(session, ctx(host, now=at(2)), booking=made, note="Batterie chargée")
    loan.record_return(
        session, ctx(host, now=at(3)), booking=made, condition="incomplete", note="Manque le pare-soleil"
    )
    session.expire_all()
    done = session.get(Booking, made.id)
    assert done.status == "returned"
    assert (done.decided_by_id, done.handed_over_by_id, done.received_by_id) == (host.id, host.id, host.id)
    assert done.condition == "incomplete" and done.condition_note == "Manque le pare-soleil"
    assert done.sequence == 3
    trail = session.execute(
        select(AuditEntry.action, AuditEntry.from_state, AuditEntry.to_state)
        .where(AuditEntry.subject_id == made.id)
        .order_by(AuditEntry.id)
    ).all()
    assert [tuple(row) for row in trail] == [
        ("create", None, "requested"),
        ("approve", "requested", "approved"),
        ("pickup", "approved", "picked_up"),
        ("return", "picked_up", "returned"),
    ]
    subjects = [m.subject for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert any("validée" in subject for subject in subjects)


@pytest.mark.parametrize("action", ["pickup", "return", "no_show", "reject_twice"])
def test_illegal_transitions_are_refused_and_change_nothing(session, camera, member, host, action):
    made = book(session, camera, member, at(2), at(3))
    booking.reject(session, ctx(host, now=NOW), booking=made, reason="Non")
    with pytest.raises(Conflict):
        if action == "pickup":
            loan.record_pickup(session, ctx(host, now=at(2)), booking=made)
        elif action == "return":
            loan.record_return(session, ctx(host, now=at(3)), booking=made, condition="ok")
        elif action == "no_show":
            loan.mark_no_show(session, ctx(host, now=at(2, 1)), booking=made)
        else:
            booking.reject(session, ctx(host, now=NOW), booking=made, reason="Encore")
    session.expire_all()
    assert session.get(Booking, made.id).status == "rejected"


@pytest.mark.parametrize("who", ["other_host", "member", "trainer"])
def test_only_the_hosts_of_the_resources_departement_act_on_it(session, camera, member, make_user, who):
    made = book(session, camera, member, at(2), at(3))
    actor = {
        "other_host": lambda: make_user(hosts=("34",)),
        "member": lambda: member,
        "trainer": lambda: make_user(roles={"trainer"}),
    }[who]()
    for act in (
        lambda: booking.approve(session, ctx(actor, now=NOW), booking=made),
        lambda: booking.reject(session, ctx(actor, now=NOW), booking=made, reason="x"),
        lambda: loan.record_pickup(session, ctx(actor, now=at(2)), booking=made),
        lambda: loan.mark_no_show(session, ctx(actor, now=at(2, 1)), booking=made),
    ):
        with pytest.raises(Forbidden):
            act()
    session.expire_all()
    assert session.get(Booking, made.id).status == "requested"


def test_an_admin_acts_in_every_departement(session, camera, member, make_user):
    made = book(session, camera, member, at(2), at(3))
    booking.approve(session, ctx(make_user(roles={"admin"}), now=NOW), booking=made)
    assert made.status == "approved"


def test_a_return_that_is_not_ok_needs_a_note(session, camera, member, host):
    made = book(session, camera, member, at(2), at(3))
    booking.approve(session, ctx(host, now=NOW), booking=made)
    loan.record_pickup(session, ctx(host, now=at(2)), booking=made)
    with pytest.raises(RuleViolation):
        loan.record_return(session, ctx(host, now=at(3)), booking=made, condition="damaged")
    with pytest.raises(RuleViolation):
        loan.record_return(session, ctx(host, now=at(3)), booking=made, condition="lost-in-space", note="?")


def test_a_pickup_before_the_day_before_is_refused(session, camera, member, host):
    made = book(session, camera, member, at(5), at(6))
    booking.approve(session, ctx(host, now=NOW), booking=made)
    with pytest.raises(RuleViolation):
        loan.record_pickup(session, ctx(host, now=at(3)), booking=made)
    loan.record_pickup(session, ctx(host, now=at(4, 1)), booking=made)


def test_changing_dates_rechecks_everything_and_asks_for_approval_again(session, camera, member, host, make_user):
    made = book(session, camera, member, at(2), at(3))
    booking.approve(session, ctx(host, now=NOW), booking=made)
    book(session, camera, make_user(), at(10), at(11))
    with pytest.raises(Conflict):
        booking.change_dates(session, ctx(member, now=NOW), booking=made, starts_at=at(10, 2), ends_at=at(11))
    booking.change_dates(session, ctx(member, now=NOW), booking=made, starts_at=at(5), ends_at=at(6))
    assert (made.starts_at, made.status, made.sequence) == (at(5), "requested", 2)


def test_someone_else_cannot_change_or_cancel_my_booking(session, camera, member, make_user):
    made = book(session, camera, member, at(2), at(3))
    stranger = make_user()
    with pytest.raises(Forbidden):
        booking.cancel(session, ctx(stranger, now=NOW), booking=made)
    with pytest.raises(Forbidden):
        booking.change_dates(session, ctx(stranger, now=NOW), booking=made, starts_at=at(4), ends_at=at(5))


def test_a_loan_is_extended_only_if_the_next_slot_is_free(session, camera, member, host, make_user):
    made = book(session, camera, member, at(2), at(3))
    booking.approve(session, ctx(host, now=NOW), booking=made)
    loan.record_pickup(session, ctx(host, now=at(2)), booking=made)
    book(session, camera, make_user(), at(5), at(6))
    with pytest.raises(Conflict):
        booking.extend(session, ctx(member, now=at(2, 1)), booking=made, ends_at=at(4, 20))
    booking.extend(session, ctx(member, now=at(2, 1)), booking=made, ends_at=at(4))
    assert made.ends_at == at(4) and made.held_until == at(4) + 12 * H


def test_a_loan_across_the_clock_change_keeps_its_wall_clock_times(session, make_category, make_resource, member):
    stand = make_resource(category=make_category(max_duration_hours=24 * 14, max_advance_days=400))
    start = datetime(2027, 10, 30, 10, tzinfo=PARIS).astimezone(UTC)  # Saturday, summer time
    end = datetime(2027, 11, 1, 10, tzinfo=PARIS).astimezone(UTC)  # Monday, winter time
    made = book(session, stand, member, start, end)
    session.expire_all()
    stored = session.get(Booking, made.id)
    assert stored.starts_at.astimezone(PARIS).hour == 10
    assert stored.ends_at.astimezone(PARIS).hour == 10
    assert stored.ends_at - stored.starts_at == timedelta(hours=49)


def test_book_a_kit_picks_a_free_unit_in_the_preferred_departement(
    session, make_category, make_resource, member, make_user
):
    kits = make_category(name="Kit de streaming")
    toulouse = make_resource(name="Kit Toulouse", category=kits, departement_code="31")
    montpellier = make_resource(name="Kit Montpellier", category=kits, departement_code="34")
    book(session, toulouse, make_user(), at(2), at(3))
    made = booking.book_a_unit(
        session,
        ctx(member, now=NOW),
        category=kits,
        starts_at=at(2),
        ends_at=at(3),
        purpose="",
        preferred_departement="31",
    )
    assert made.resource_id == montpellier.id
    again = booking.book_a_unit(
        session,
        ctx(member, now=NOW),
        category=kits,
        starts_at=at(8),
        ends_at=at(9),
        purpose="",
        preferred_departement="31",
    )
    assert again.resource_id == toulouse.id
    with pytest.raises(Conflict):
        booking.book_a_unit(session, ctx(member, now=NOW), category=kits, starts_at=at(2), ends_at=at(3), purpose="")


def test_retired_resources_cannot_be_booked(session, camera, member):
    camera.retired_at = NOW - D
    session.commit()
    with pytest.raises(RuleViolation):
        book(session, camera, member, at(2), at(3))


class TestAccountCredentials:
    @pytest.fixture
    def key(self):
        return Fernet.generate_key().decode()

    @pytest.fixture
    def zoom(self, make_category, make_resource, key):
        category = make_category(needs_pickup=False, needs_approval=False, min_lead_hours=0)
        secret = credentials.encrypt(key, credentials.Credentials("zoom@example.org", "s3cret"))
        return make_resource(category=category, credentials_encrypted=secret, departement_code="11")

    def test_the_holder_sees_the_login_only_during_the_booking_and_each_reveal_is_logged(
        self, session, zoom, member, key
    ):
        made = book(session, zoom, member, at(1), at(1, 2))
        early = credentials.reveal(session, ctx(member, now=at(0, 23), credentials_key=key), booking=made)
        shown = credentials.reveal(session, ctx(member, now=at(1, 1), credentials_key=key), booking=made)
        late = credentials.reveal(session, ctx(member, now=at(1, 2), credentials_key=key), booking=made)
        assert early.credentials is None and "pendant la réservation" in early.refusal
        assert shown.credentials.password == "s3cret" and shown.refusal is None
        assert late.credentials is None
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.action.like("reveal%")).order_by(AuditEntry.id)
        ).all()
        assert actions == ["reveal-refused", "reveal-credentials", "reveal-refused"]

    def test_not_even_the_host_sees_the_login_but_an_admin_does(self, session, zoom, member, host, make_user, key):
        made = book(session, zoom, member, at(1), at(1, 2))
        during = at(1, 1)
        assert credentials.reveal(session, ctx(host, now=during, credentials_key=key), booking=made).credentials is None
        stranger = ctx(make_user(), now=during, credentials_key=key)
        assert credentials.reveal(session, stranger, booking=made).credentials is None
        admin = ctx(make_user(roles={"admin"}), now=at(5), credentials_key=key)
        assert credentials.reveal(session, admin, booking=made).credentials.login == "zoom@example.org"

    def test_a_cancelled_booking_reveals_nothing(self, session, zoom, member, key):
        made = book(session, zoom, member, at(1), at(1, 2))
        booking.cancel(session, ctx(member, now=NOW), booking=made)
        assert credentials.reveal(session, ctx(member, now=at(1, 1), credentials_key=key), booking=made).refusal


def test_two_calls_in_one_unit_of_work_commit_together_or_not_at_all(session, camera, member):
    with pytest.raises(Conflict), unit_of_work(session):
        booking.create(session, ctx(member), resource=camera, starts_at=at(2), ends_at=at(3), purpose="Premier")
        booking.create(session, ctx(member), resource=camera, starts_at=at(2), ends_at=at(3), purpose="Second")
    session.expire_all()
    assert session.scalars(select(Booking)).all() == []
    assert session.scalars(select(AuditEntry)).all() == []


def test_a_unit_of_work_refuses_to_commit_changes_made_outside_it(session, camera, member):
    camera.name = "Renommée sans unité de travail"
    with pytest.raises(StrayWrite), unit_of_work(session):
        pass
    session.expire_all()
    assert session.get(Resource, camera.id).name == "Caméra Sony"


def test_only_the_resources_host_or_an_admin_marks_a_no_show(session, camera, member, host, make_user):
    made = book(session, camera, member, at(2), at(3))
    booking.approve(session, ctx(host), booking=made)
    other_host = make_user(hosts=("34",))
    for outsider in (member, other_host):
        with pytest.raises(Forbidden):
            loan.mark_no_show(session, ctx(outsider, now=at(2, 2)), booking=made)
    assert made.status == "approved"
    loan.mark_no_show(session, ctx(make_user(roles={"admin"}), now=at(2, 2)), booking=made)
    assert made.status == "no_show"


def test_only_a_host_of_that_departement_deletes_its_closure(session, camera, host, make_user):
    with unit_of_work(session):
        closure = blackouts.create(
            session, ctx(host), departement_code="11", starts_at=at(5), ends_at=at(6), reason="Congés"
        )
    for outsider in (make_user(), make_user(hosts=("34",))):
        with pytest.raises(Forbidden), unit_of_work(session):
            blackouts.delete(session, ctx(outsider), blackout_id=closure.id)
    assert session.get(Blackout, closure.id) is not None
    with unit_of_work(session):
        assert blackouts.delete(session, ctx(host), blackout_id=closure.id) == "11"
    assert session.get(Blackout, closure.id) is None


def test_only_the_holder_or_the_resources_host_changes_extends_or_cancels(session, camera, member, make_user):
    with unit_of_work(session):
        made = book(session, camera, member, at(2), at(3))
    stranger, other_host = make_user(), make_user(hosts=("34",))
    for outsider in (stranger, other_host):
        with pytest.raises(Forbidden):
            booking.change_dates(session, ctx(outsider), booking=made, starts_at=at(4), ends_at=at(5))
        with pytest.raises(Forbidden):
            booking.extend(session, ctx(outsider), booking=made, ends_at=at(3, 5))
        with pytest.raises(Forbidden):
            booking.cancel(session, ctx(outsider), booking=made)
    assert (made.status, made.starts_at, made.ends_at) == ("requested", at(2), at(3))


def test_only_the_departements_hosts_and_admins_see_who_holds_what(make_user):
    assert availability.holders_visible_to(make_user(hosts=("11",)), "11")
    assert availability.holders_visible_to(make_user(roles={"admin"}), "11")
    assert not availability.holders_visible_to(make_user(hosts=("34",)), "11")
    assert not availability.holders_visible_to(make_user(), "11")
    assert not availability.holders_visible_to(None, "11")


def test_credentials_are_stored_encrypted_and_only_for_accounts(session, make_category, make_user):
    admin = make_user(roles={"admin"})
    cameras, zooms = make_category(needs_pickup=True), make_category(needs_pickup=False)
    fields = {"resource": None, "departement_code": "11", "description": ""}
    with pytest.raises(RuleViolation) as refused, unit_of_work(session):
        catalogue.save_resource(session, ctx(admin), name="Caméra", category=cameras, account_login="x", **fields)
    assert refused.value.field == "account_login"
    with unit_of_work(session):
        zoom = catalogue.save_resource(
            session, ctx(admin), name="Zoom 1", category=zooms, account_login="z@x.org", account_password="pw", **fields
        )
    assert "pw" not in zoom.credentials_encrypted
    with unit_of_work(session):  # a new password alone keeps the login
        catalogue.save_resource(
            session, ctx(admin), name="Zoom 1", category=zooms, account_password="pw2", **fields | {"resource": zoom}
        )
    key = ctx().credentials_key
    assert credentials.decrypt(key, zoom.credentials_encrypted) == credentials.Credentials("z@x.org", "pw2")


def test_book_a_kit_takes_the_nearest_unit_and_says_where_it_is_kept(session, make_category, make_resource, make_user):
    kits = make_category(name="Kit de streaming")
    make_resource(name="Kit Foix", category=kits, departement_code="09")
    nimes = make_resource(name="Kit Nîmes", category=kits, departement_code="30")
    member = make_user(departement_code="34")  # Hérault borders Gard, not Ariège
    made = booking.book_a_unit(session, ctx(member), category=kits, starts_at=at(2), ends_at=at(3), purpose="")
    assert made.resource_id == nimes.id and made.status == "requested"


def test_the_hosts_are_told_when_a_member_cancels_and_the_member_when_a_host_does(session, camera, member, host):
    made = book(session, camera, member, at(2), at(3))
    booking.cancel(session, ctx(member), booking=made)
    told = session.scalars(select(OutboxMessage.to_address).where(OutboxMessage.key.like("%cancelled%"))).all()
    assert told == [host.email]
    other = book(session, camera, member, at(5), at(6))
    booking.cancel(session, ctx(host), booking=other, reason="Objet prêté ailleurs")
    told = session.scalars(
        select(OutboxMessage.to_address).where(OutboxMessage.key.like("%cancelled%")).order_by(OutboxMessage.id)
    ).all()
    assert told == [host.email, member.email]
