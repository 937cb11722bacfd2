"""Account slots that nobody uses are released; members who do not come need the host's approval."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import jobs
from app.db import unit_of_work
from app.models import AuditEntry, Booking, BookingStatus, OutboxMessage
from app.services import booking, credentials, release
from tests.factories import NOW, ctx

S = BookingStatus
M = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)


@pytest.fixture
def zoom(make_category, make_resource):
    key = ctx().credentials_key
    category = make_category(
        name="Compte Zoom", needs_pickup=False, needs_approval=False, release_after_minutes=30, min_lead_hours=0
    )
    secret = credentials.encrypt(key, credentials.Credentials("live@example.org", "s3cret"))
    return make_resource(name="Zoom n°1", category=category, credentials_encrypted=secret)


@pytest.fixture
def holder(make_user):
    return make_user(display_name="Léa Membre")


@pytest.fixture
def slot(make_booking, zoom, holder):
    """An approved account booking from NOW to NOW + 2 h."""
    return make_booking(resource=zoom, user=holder, starts_at=NOW, ends_at=NOW + 2 * H)


def released_at(session, now):
    with unit_of_work(session):
        return [release.release(session, ctx(now=now), booking=b) for b in release.due(session, ctx(now=now))]


def mails(session, key_part="released"):
    return [m for m in session.scalars(select(OutboxMessage)) if key_part in m.key]


def test_an_unopened_account_booking_is_released_thirty_minutes_after_its_start_and_the_holder_is_told(
    session, slot, holder
):
    done = released_at(session, NOW + 30 * M)
    assert [b.id for b in done] == [slot.id]
    session.expire_all()
    kept = session.get(Booking, slot.id)
    assert kept.status is S.CANCELLED
    assert "identifiants n'avaient pas été affichés" in kept.decision_reason
    [mail] = mails(session)
    assert mail.key == f"booking:{slot.id}:released"
    assert mail.to_address == holder.email
    assert "libérée" in mail.body_text and "n'a pas été utilisée" in mail.body_text and "Zoom n°1" in mail.body_text


def test_the_release_is_audited_as_a_release_by_the_system_not_as_a_cancellation(session, slot):
    released_at(session, NOW + 31 * M)
    [entry] = session.scalars(
        select(AuditEntry).where(AuditEntry.subject_type == "booking", AuditEntry.subject_id == slot.id)
    ).all()
    assert (entry.action, entry.actor_id, entry.from_state, entry.to_state) == (
        "release",
        None,
        "approved",
        "cancelled",
    )
    assert entry.note


def test_a_booking_whose_credentials_were_shown_is_kept(session, slot, holder):
    with unit_of_work(session):
        shown = credentials.reveal(session, ctx(holder, now=NOW + 5 * M), booking=slot)
    assert shown.credentials is not None
    assert release.due(session, ctx(now=NOW + 40 * M)) == []
    assert released_at(session, NOW + 40 * M) == []
    assert session.get(Booking, slot.id).status is S.APPROVED


def test_a_refused_reveal_does_not_count_as_use(session, slot, make_user):
    with unit_of_work(session):
        credentials.reveal(session, ctx(make_user(), now=NOW + 5 * M), booking=slot)
    assert [b.id for b in release.due(session, ctx(now=NOW + 30 * M))] == [slot.id]


def test_a_booking_not_yet_thirty_minutes_old_is_kept(session, slot):
    assert release.due(session, ctx(now=NOW + 29 * M)) == []
    assert release.due(session, ctx(now=NOW - H)) == []


def test_the_delay_is_the_categorys_own(session, slot, zoom):
    zoom.category.release_after_minutes = 90
    session.commit()
    assert release.due(session, ctx(now=NOW + 89 * M)) == []
    assert [b.id for b in release.due(session, ctx(now=NOW + 90 * M))] == [slot.id]


def test_a_category_that_never_releases_keeps_its_bookings(session, slot, zoom):
    zoom.category.release_after_minutes = None
    session.commit()
    assert release.due(session, ctx(now=NOW + H)) == []


def test_an_ended_booking_is_kept(session, slot):
    assert release.due(session, ctx(now=NOW + 2 * H)) == []
    assert release.due(session, ctx(now=NOW + 3 * H)) == []


def test_only_approved_bookings_are_released(session, make_booking, zoom, holder):
    make_booking(resource=zoom, user=holder, starts_at=NOW, ends_at=NOW + H, status=S.REQUESTED.value)
    make_booking(resource=zoom, user=holder, starts_at=NOW + H, ends_at=NOW + 2 * H, status=S.CANCELLED.value)
    assert release.due(session, ctx(now=NOW + H + 40 * M)) == []


def test_a_physical_item_is_never_released(session, make_category, make_resource, make_booking, holder):
    camera = make_resource(category=make_category(release_after_minutes=30))
    make_booking(resource=camera, user=holder, starts_at=NOW, ends_at=NOW + 2 * H)
    assert release.due(session, ctx(now=NOW + H)) == []


def test_a_second_tick_releases_nothing_more_and_the_holder_is_emailed_once(session, slot):
    assert len(released_at(session, NOW + 31 * M)) == 1
    assert released_at(session, NOW + 32 * M) == []
    assert len(mails(session)) == 1
    # Found by one tick, released by another meanwhile: the late one does nothing.
    with unit_of_work(session):
        assert release.release(session, ctx(now=NOW + 33 * M), booking=slot) is None
    assert len(mails(session)) == 1
    releases = session.scalars(select(AuditEntry).where(AuditEntry.action == "release")).all()
    assert len(releases) == 1


def test_a_booking_revealed_between_finding_and_releasing_is_kept(session, slot, holder):
    found = release.due(session, ctx(now=NOW + 31 * M))
    with unit_of_work(session):
        credentials.reveal(session, ctx(holder, now=NOW + 31 * M), booking=slot)
    with unit_of_work(session):
        assert release.release(session, ctx(now=NOW + 32 * M), booking=found[0]) is None
    assert session.get(Booking, slot.id).status is S.APPROVED


def test_the_released_slot_can_be_booked_again(session, slot, zoom, make_user):
    released_at(session, NOW + 31 * M)
    other = make_user()
    with unit_of_work(session):
        again = booking.create(
            session,
            ctx(other, now=NOW + 35 * M),
            resource=zoom,
            starts_at=NOW + 45 * M,
            ends_at=NOW + 2 * H,
            purpose="",
        )
    assert again.status is S.APPROVED


def test_the_minute_tick_releases_through_the_job(app, session, slot, clock):
    clock(NOW + 31 * M)
    jobs.tick(app)
    session.expire_all()
    assert session.get(Booking, slot.id).status is S.CANCELLED
    assert len(mails(session)) == 1
    jobs.tick(app)
    assert len(mails(session)) == 1


def test_the_job_counts_what_it_released(session, slot):
    assert jobs.release_unused(session, ctx(now=NOW + 10 * M)) == 0
    assert jobs.release_unused(session, ctx(now=NOW + 31 * M)) == 1
    assert jobs.release_unused(session, ctx(now=NOW + 32 * M)) == 0


# The no-show rule --------------------------------------------------------------------------------


@pytest.fixture
def camera(make_category, make_resource):
    category = make_category(
        name="Caméra", needs_approval=False, no_show_limit=3, no_show_window_days=180, min_lead_hours=0
    )
    return make_resource(name="Caméra Sony", category=category, departement_code="11")


@pytest.fixture
def host(make_user):
    return make_user(display_name="Martin Hôte", hosts=("11",))


def no_shows(make_booking, resource, user, *days_ago):
    for n in days_ago:
        start = NOW - n * D
        make_booking(resource=resource, user=user, starts_at=start, ends_at=start + H, status=S.NO_SHOW.value)


def book(session, resource, user, when=NOW + 2 * D):
    with unit_of_work(session):
        return booking.create(
            session, ctx(user, now=NOW), resource=resource, starts_at=when, ends_at=when + 2 * H, purpose="Live"
        )


def test_after_three_no_shows_in_the_window_a_booking_waits_for_the_host(session, camera, holder, host, make_booking):
    no_shows(make_booking, camera, holder, 10, 40, 170)
    assert release.needs_approval_for(session, ctx(holder), user=holder, category=camera.category)
    made = book(session, camera, holder)
    assert made.status is S.REQUESTED
    assert made.decided_at is None
    assert [m.to_address for m in mails(session, "requested")] == [host.email]


def test_two_no_shows_still_book_at_once(session, camera, holder, make_booking):
    no_shows(make_booking, camera, holder, 10, 40)
    assert not release.needs_approval_for(session, ctx(holder), user=holder, category=camera.category)
    assert book(session, camera, holder).status is S.APPROVED


def test_no_shows_older_than_the_window_do_not_count(session, camera, holder, make_booking):
    no_shows(make_booking, camera, holder, 10, 40, 181, 400)
    assert release.no_shows(session, ctx(holder), user=holder, category=camera.category) == 2
    assert book(session, camera, holder).status is S.APPROVED


def test_no_shows_count_in_their_own_category_and_for_their_own_member_only(
    session, camera, holder, make_booking, make_resource, make_category, make_user
):
    elsewhere = make_resource(category=make_category(), departement_code="11")
    no_shows(make_booking, elsewhere, holder, 10, 20, 30)
    no_shows(make_booking, camera, make_user(), 10, 20, 30)
    assert book(session, camera, holder).status is S.APPROVED


def test_a_category_without_the_rule_never_holds_anyone_back(session, camera, holder, make_booking):
    camera.category.no_show_limit = None
    session.commit()
    no_shows(make_booking, camera, holder, 1, 2, 3, 4, 5)
    assert book(session, camera, holder).status is S.APPROVED


def test_released_account_bookings_do_not_count_as_no_shows(session, slot, zoom, holder, make_booking):
    zoom.category.no_show_limit = 1
    session.commit()
    released_at(session, NOW + 31 * M)
    assert session.get(Booking, slot.id).status is S.CANCELLED
    assert release.no_shows(session, ctx(holder, now=NOW + H), user=holder, category=zoom.category) == 0
    with unit_of_work(session):
        again = booking.create(
            session, ctx(holder, now=NOW + H), resource=zoom, starts_at=NOW + 3 * H, ends_at=NOW + 4 * H, purpose=""
        )
    assert again.status is S.APPROVED
