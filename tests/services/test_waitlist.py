"""The equipment waitlist: wishes, holds offered first come first served, answers and lapses."""

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from app import jobs
from app.db import unit_of_work
from app.models import Booking, BookingStatus, OutboxMessage, OutOfService, Wish, WishStatus
from app.services import blackouts, booking, maintenance, waitlist
from app.services.errors import Conflict, Forbidden, RuleViolation
from tests.factories import NOW, ctx

S = BookingStatus
W = WishStatus
H = timedelta(hours=1)
D = timedelta(days=1)
START, END = NOW + 3 * D, NOW + 3 * D + 4 * H


@pytest.fixture
def camera(make_category, make_resource):
    return make_resource(name="Caméra Sony", category=make_category(name="Caméra", needs_approval=True))


@pytest.fixture
def host(make_user):
    return make_user(display_name="Hôte Haute-Garonne", hosts=["31"])


@pytest.fixture
def taken(make_booking, make_user, camera):
    """The camera held by someone else over START → END."""
    return make_booking(resource=camera, user=make_user(display_name="Première"), starts_at=START, ends_at=END)


def wish_for(session, user, resource=None, *, category=None, starts_at=START, ends_at=END, now=NOW, **more):
    with unit_of_work(session):
        return waitlist.wish(
            session, ctx(user, now), resource=resource, category=category, starts_at=starts_at, ends_at=ends_at, **more
        )


def cancel(session, found, now=NOW):
    with unit_of_work(session):
        booking.cancel(session, ctx(found.user, now), booking=session.get(Booking, found.id))


def hold_of(session, wish):
    session.expire_all()
    current = session.get(Wish, wish.id)
    return current, (session.get(Booking, current.booking_id) if current.booking_id else None)


def mails(session, key_part):
    return [m for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)) if key_part in m.key]


def test_a_cancellation_holds_the_slot_for_the_first_person_waiting_and_emails_them_the_answer_links(
    session, camera, taken, make_user
):
    lea = make_user(display_name="Léa")
    wish = wish_for(session, lea, camera, purpose="Live du jeudi")
    assert wish.status is W.WAITING

    cancel(session, taken)

    current, hold = hold_of(session, wish)
    assert current.status is W.OFFERED
    assert (hold.status, hold.user_id, hold.resource_id) == (S.PROPOSED, lea.id, camera.id)
    assert (hold.starts_at, hold.ends_at, hold.purpose) == (START, END, "Live du jeudi")
    assert current.offer_expires_at == NOW + 24 * H
    [mail] = mails(session, f"wish:{wish.id}:offered")
    assert mail.to_address == lea.email
    assert "Caméra Sony" in mail.body_text and "/a/" in mail.body_text
    assert "Confirmer" in mail.body_text and "Refuser" in mail.body_text


def test_first_come_first_served_one_freed_slot_is_one_hold(session, camera, taken, make_user):
    first = wish_for(session, make_user(), camera)
    second = wish_for(session, make_user(), camera)
    cancel(session, taken)
    assert hold_of(session, first)[0].status is W.OFFERED
    assert hold_of(session, second)[0].status is W.WAITING
    assert session.scalar(select(Booking).where(Booking.status == S.PROPOSED)).user_id == first.user_id


def test_a_hold_keeps_the_slot_from_anyone_booking_it(session, camera, taken, make_user):
    wish_for(session, make_user(), camera)
    cancel(session, taken)
    with pytest.raises(Conflict), unit_of_work(session):
        booking.create(session, ctx(make_user()), resource=camera, starts_at=START, ends_at=END, purpose="")


def test_the_database_refuses_a_hold_over_a_held_slot_whatever_writes_it(session, camera, taken):
    with pytest.raises(IntegrityError):
        session.execute(
            text(
                "INSERT INTO bookings (resource_id, user_id, starts_at, ends_at, held_until, status, purpose,"
                " created_at, updated_at, sequence, hours_override)"
                " SELECT resource_id, user_id, starts_at, ends_at, held_until, 'proposed', '', created_at,"
                " updated_at, 0, hours_override FROM bookings WHERE id = :id"
            ),
            {"id": taken.id},
        )
        session.commit()
    session.rollback()


def test_confirming_a_hold_makes_it_a_request_to_the_host_who_hears_of_it(session, camera, taken, make_user, host):
    lea = make_user()
    wish = wish_for(session, lea, camera)
    cancel(session, taken)
    _, hold = hold_of(session, wish)
    with unit_of_work(session):
        waitlist.confirm(session, ctx(lea, NOW + 2 * H), booking=hold)
    current, hold = hold_of(session, wish)
    assert (current.status, hold.status) == (W.CONFIRMED, S.REQUESTED)
    assert mails(session, f"booking:{hold.id}:requested:to:{host.id}")


def test_confirming_where_no_approval_is_needed_approves_at_once(session, make_category, make_resource, make_user):
    mic = make_resource(category=make_category(needs_approval=False))
    first = booking_by(session, make_user(), mic)
    lea = make_user()
    wish = wish_for(session, lea, mic)
    cancel(session, first)
    _, hold = hold_of(session, wish)
    with unit_of_work(session):
        waitlist.confirm(session, ctx(lea), booking=hold)
    assert hold_of(session, wish)[1].status is S.APPROVED
    assert mails(session, f"booking:{hold.id}:approved")


def booking_by(session, user, resource, starts_at=START, ends_at=END):
    with unit_of_work(session):
        return booking.create(session, ctx(user), resource=resource, starts_at=starts_at, ends_at=ends_at, purpose="")


def test_declining_a_hold_passes_the_slot_to_the_next_person(session, camera, taken, make_user):
    lea, marc = make_user(), make_user()
    first, second = wish_for(session, lea, camera), wish_for(session, marc, camera)
    cancel(session, taken)
    _, hold = hold_of(session, first)
    with unit_of_work(session):
        waitlist.decline(session, ctx(lea), booking=hold)
    assert hold_of(session, first)[0].status is W.DECLINED
    assert hold_of(session, first)[1].status is S.CANCELLED
    current, next_hold = hold_of(session, second)
    assert current.status is W.OFFERED and next_hold.user_id == marc.id and next_hold.status is S.PROPOSED


def test_an_unanswered_hold_lapses_after_a_day_and_passes_to_the_next_person(app, session, camera, taken, make_user):
    lea, marc = make_user(), make_user()
    first, second = wish_for(session, lea, camera), wish_for(session, marc, camera)
    cancel(session, taken)
    assert jobs.settle_waitlist(session, ctx(now=NOW + 23 * H)) == 0
    assert jobs.settle_waitlist(session, ctx(now=NOW + 24 * H)) == 1
    assert hold_of(session, first)[0].status is W.LAPSED
    assert hold_of(session, first)[1].status is S.LAPSED
    assert hold_of(session, second)[0].status is W.OFFERED
    [told] = mails(session, f"wish:{first.id}:lapsed")
    assert told.to_address == lea.email
    # A second tick finds nothing more to lapse.
    assert jobs.settle_waitlist(session, ctx(now=NOW + 24 * H)) == 0


def test_a_hold_never_outlasts_the_start_and_cannot_be_confirmed_after_it_lapses(session, camera, make_user):
    soon_start, soon_end = NOW + 5 * H, NOW + 8 * H
    first = booking_by(session, make_user(), camera, soon_start, soon_end)
    lea = make_user()
    wish = wish_for(session, lea, camera, starts_at=soon_start, ends_at=soon_end)
    cancel(session, first)
    current, hold = hold_of(session, wish)
    assert current.offer_expires_at == soon_start
    with pytest.raises(RuleViolation, match="expiré"), unit_of_work(session):
        waitlist.confirm(session, ctx(lea, soon_start), booking=hold)


def test_only_the_person_offered_a_hold_may_answer_it(session, camera, taken, make_user):
    wish = wish_for(session, make_user(), camera)
    cancel(session, taken)
    _, hold = hold_of(session, wish)
    with pytest.raises(Forbidden), unit_of_work(session):
        waitlist.confirm(session, ctx(make_user()), booking=hold)
    assert hold_of(session, wish)[1].status is S.PROPOSED


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "message"),
    [
        (NOW - D, NOW - D + H, "passé"),
        (START, START - H, "après le début"),
        (NOW + 400 * D, NOW + 400 * D + H, "à l'avance"),
    ],
)
def test_a_wish_in_the_past_backwards_or_too_far_ahead_is_refused_and_nothing_is_stored(
    session, camera, taken, make_user, starts_at, ends_at, message
):
    with pytest.raises(RuleViolation, match=message):
        wish_for(session, make_user(), camera, starts_at=starts_at, ends_at=ends_at)
    assert session.scalar(select(Wish)) is None


def test_a_wish_for_a_free_slot_says_to_book_it_instead(session, camera, make_user):
    with pytest.raises(RuleViolation, match="réservez directement"):
        wish_for(session, make_user(), camera)


def test_waiting_twice_for_the_same_thing_is_refused(session, camera, taken, make_user):
    lea = make_user()
    wish_for(session, lea, camera)
    with pytest.raises(RuleViolation, match="déjà"):
        wish_for(session, lea, camera, starts_at=START + H)
    assert len(session.scalars(select(Wish)).all()) == 1


def test_a_category_wish_takes_the_first_unit_of_that_category_to_free(
    session, make_category, make_resource, make_booking, make_user
):
    kind = make_category(name="Micro HF")
    units = [make_resource(category=kind, departement_code=code) for code in ("31", "81")]
    held = [make_booking(resource=u, user=make_user(), starts_at=START, ends_at=END) for u in units]
    lea = make_user(departement_code="81")
    wish = wish_for(session, lea, category=kind)
    cancel(session, held[0])
    _, hold = hold_of(session, wish)
    assert hold.resource_id == units[0].id


def test_a_shortened_booking_offers_what_it_no_longer_holds(session, camera, taken, make_user):
    lea = make_user()
    wish = wish_for(session, lea, camera, starts_at=END - H, ends_at=END)
    with unit_of_work(session):
        shortened = session.get(Booking, taken.id)
        booking.change_dates(session, ctx(taken.user), booking=shortened, starts_at=START, ends_at=START + H)
    assert hold_of(session, wish)[0].status is W.OFFERED


def test_a_refused_request_frees_the_slot(session, camera, make_user, host):
    request = booking_by(session, make_user(), camera)
    wish = wish_for(session, make_user(), camera)
    with unit_of_work(session):
        booking.reject(session, ctx(host), booking=session.get(Booking, request.id), reason="Déjà prêtée")
    assert hold_of(session, wish)[0].status is W.OFFERED


def test_a_lifted_closure_offers_the_slot(session, camera, make_user, host):
    with unit_of_work(session):
        closure = blackouts.create(
            session, ctx(host), departement_code="31", starts_at=START - H, ends_at=END + H, reason="Inventaire"
        )
    wish = wish_for(session, make_user(), camera)
    with unit_of_work(session):
        blackouts.delete(session, ctx(host), blackout_id=closure.id)
    assert hold_of(session, wish)[0].status is W.OFFERED


def test_an_item_back_in_service_is_offered_to_whoever_waits_for_it(session, camera, make_user, host):
    period = OutOfService(resource_id=camera.id, starts_at=NOW - D, reason="Objectif rayé", created_by_id=host.id)
    session.add(period)
    session.commit()
    wish = wish_for(session, make_user(), camera)
    with unit_of_work(session):
        maintenance.back_in_service(session, ctx(host, NOW + H), period=period)
    assert hold_of(session, wish)[0].status is W.OFFERED


def test_withdrawing_an_offered_wish_passes_its_hold_on(session, camera, taken, make_user):
    lea, marc = make_user(), make_user()
    first, second = wish_for(session, lea, camera), wish_for(session, marc, camera)
    cancel(session, taken)
    with unit_of_work(session):
        waitlist.withdraw(session, ctx(lea), wish=session.get(Wish, first.id))
    assert hold_of(session, second)[0].status is W.OFFERED
    with pytest.raises(Forbidden), unit_of_work(session):
        waitlist.withdraw(session, ctx(lea), wish=session.get(Wish, second.id))


def test_wishes_whose_period_began_with_nothing_freed_end_quietly(session, camera, taken, make_user):
    wish = wish_for(session, make_user(), camera)
    jobs.settle_waitlist(session, ctx(now=START))
    assert hold_of(session, wish)[0].status is W.EXPIRED
    assert session.scalar(select(Booking).where(Booking.status == S.PROPOSED)) is None


def test_an_account_released_unused_is_offered_to_the_person_waiting_for_it(
    session, make_category, make_resource, make_booking, make_user
):
    from app.services import release

    zoom = make_resource(
        category=make_category(name="Compte Zoom", needs_pickup=False, needs_approval=False, release_after_minutes=30)
    )
    unused = make_booking(resource=zoom, user=make_user(), starts_at=NOW, ends_at=NOW + 4 * H)
    lea = make_user()
    wish = wish_for(session, lea, zoom, starts_at=NOW + H, ends_at=NOW + 3 * H, now=NOW - H)
    with unit_of_work(session):
        [due] = release.due(session, ctx(now=NOW + H / 2))
        release.release(session, ctx(now=NOW + H / 2), booking=due)
    current, hold = hold_of(session, wish)
    assert session.get(Booking, unused.id).status is S.CANCELLED
    assert (current.status, hold.user_id, hold.status) == (W.OFFERED, lea.id, S.PROPOSED)
    assert current.offer_expires_at == NOW + H  # the start comes before a day is up
