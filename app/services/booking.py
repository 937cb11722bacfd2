"""Bookings: the rules and the state machine.

requested → approved → picked_up → returned, with rejected, cancelled and no_show on the
side; accounts (no pickup) stay approved until they end. Every change bumps `sequence`
(iCal) and writes an audit entry. Overlaps are refused here, with the next free slot
named, and by the database (PostgreSQL exclusion constraint; SQLite BEGIN IMMEDIATE).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import is_postgres, write_transaction
from app.i18n import format_datetime
from app.models import HOLDING_STATUSES, Booking, BookingStatus, Category, Condition, Resource, User
from app.services import audit, availability, feeds, ical, notify
from app.services.errors import Conflict, Forbidden, NotFound, RuleViolation

S = BookingStatus
# Which statuses each action may start from.
TRANSITIONS: dict[str, tuple[BookingStatus, ...]] = {
    "approve": (S.REQUESTED,),
    "reject": (S.REQUESTED,),
    "cancel": (S.REQUESTED, S.APPROVED),
    "change": (S.REQUESTED, S.APPROVED),
    "pickup": (S.APPROVED,),
    "return": (S.PICKED_UP,),
    "no_show": (S.APPROVED,),
    "extend": (S.APPROVED, S.PICKED_UP),
}
PICKUP_EARLY = timedelta(days=1)  # a host may hand an item over the day before it is due


def get(session: Session, booking_id: int) -> Booking:
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise NotFound(_("Cette réservation n'existe pas."))
    return booking


def can_manage(actor: User, resource: Resource) -> bool:
    """Admins, and the hosts of the département where the resource is stored."""
    return actor.is_admin or actor.hosts(resource.departement_code)


def can_see_details(actor: User | None, booking: Booking) -> bool:
    """Who may see who booked and why: the holder, the resource's hosts, admins."""
    return actor is not None and (actor.id == booking.user_id or can_manage(actor, booking.resource))


def _require_manager(actor: User, resource: Resource) -> None:
    if not can_manage(actor, resource):
        raise Forbidden(_("Seul l'hôte du département où la ressource est stockée peut faire cela."))


def _require_transition(booking: Booking, action: str) -> None:
    if booking.status not in TRANSITIONS[action]:
        raise Conflict(_("Impossible : cette réservation est « %(status)s ».", status=status_label(booking.status)))


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


STATUS_LABELS = {
    S.REQUESTED: _l("En attente"),
    S.APPROVED: _l("Validée"),
    S.PICKED_UP: _l("Remise"),
    S.RETURNED: _l("Rendue"),
    S.REJECTED: _l("Refusée"),
    S.CANCELLED: _l("Annulée"),
    S.NO_SHOW: _l("Non retirée"),
}


def _check_period(category: Category, starts_at: datetime, ends_at: datetime, now: datetime, *, new: bool) -> None:
    if ends_at <= starts_at:
        raise RuleViolation(_("La fin doit venir après le début."), field="ends_at")
    if ends_at - starts_at > timedelta(hours=category.max_duration_hours):
        raise RuleViolation(
            _("Trop long : %(n)d heures au plus pour cette catégorie.", n=category.max_duration_hours),
            field="ends_at",
        )
    if new:
        if starts_at < now:
            raise RuleViolation(_("Ce début est déjà passé."), field="starts_at")
        if starts_at < now + timedelta(hours=category.min_lead_hours):
            raise RuleViolation(
                _("Trop tard : réservez au moins %(n)d heures avant le début.", n=category.min_lead_hours),
                field="starts_at",
            )
    if starts_at > now + timedelta(days=category.max_advance_days):
        raise RuleViolation(
            _("Trop tôt : on ne réserve pas plus de %(n)d jours à l'avance.", n=category.max_advance_days),
            field="starts_at",
        )


def _lock_resource(session: Session, resource_id: int) -> Resource:
    """Re-read the resource inside the write transaction, locked on PostgreSQL.

    The lock makes concurrent bookings of one resource wait for each other, so that the
    loser gets the service's clear message rather than the constraint's error.
    """
    query = select(Resource).where(Resource.id == resource_id)
    if is_postgres(session):
        query = query.with_for_update(of=Resource)
    resource = session.scalars(query).unique().one_or_none()
    if resource is None:
        raise NotFound(_("Cette ressource n'existe pas."))
    return resource


def _check_free(
    session: Session,
    resource: Resource,
    starts_at: datetime,
    held_until: datetime,
    now: datetime,
    exclude_booking_id: int | None = None,
) -> None:
    clashes = availability.conflicts(session, resource, starts_at, held_until, exclude_booking_id=exclude_booking_id)
    if not clashes:
        return
    blackout = next((c for c in clashes if c.kind == "blackout"), None)
    if blackout is not None:
        message = _("Fermé à ces dates : %(reason)s.", reason=blackout.reason)
    else:
        message = _("Déjà réservé sur cette période (battement de préparation compris).")
    duration = held_until - starts_at - resource.category.buffer
    free = availability.next_free_slot(
        session,
        resource,
        duration=duration,
        after=max(starts_at, now),
        horizon=now + timedelta(days=resource.category.max_advance_days),
        exclude_booking_id=exclude_booking_id,
    )
    if free is not None:
        message += " " + _("Prochain créneau libre de cette durée : %(when)s.", when=format_datetime(free))
    raise Conflict(message, field="starts_at")


def _check_member_limit(session: Session, user: User, category: Category, now: datetime) -> None:
    if not category.per_member_limit:
        return
    active = session.scalar(
        select(func.count())
        .select_from(Booking)
        .join(Resource, Resource.id == Booking.resource_id)
        .where(
            Booking.user_id == user.id,
            Resource.category_id == category.id,
            Booking.status.in_([s.value for s in HOLDING_STATUSES]),
            Booking.ends_at > now,
        )
    )
    if active >= category.per_member_limit:
        raise RuleViolation(
            _(
                "Vous avez déjà %(n)d réservation(s) en cours dans cette catégorie, le maximum.",
                n=category.per_member_limit,
            )
        )


def _flush_or_conflict(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        # The exclusion constraint caught what the check could not see (it should not happen
        # with the lock above, but the database has the last word).
        raise Conflict(_("Déjà réservé sur cette période (battement de préparation compris).")) from exc


def _touch(booking: Booking, now: datetime) -> None:
    booking.sequence = (booking.sequence or 0) + 1
    booking.updated_at = now


def _audit(session: Session, actor: User, booking: Booking, action: str, before: str | None, now, note=None) -> None:
    audit.record(
        session,
        actor=actor,
        subject_type="booking",
        subject_id=booking.id,
        action=action,
        from_state=before,
        to_state=booking.status,
        note=note,
        now=now,
    )


@contextmanager
def _moving(
    session: Session, actor: User, booking_id: int, action: str, to: BookingStatus, now: datetime, note=None
) -> Iterator[Booking]:
    """One change of state, whole: the booking re-read inside a write transaction, the move
    checked against TRANSITIONS, made, counted (sequence) and audited. The caller adds its own
    checks (raising rolls everything back), fields and emails inside the block."""
    with write_transaction(session):
        booking = get(session, booking_id)
        _require_transition(booking, action)
        before = booking.status
        booking.status = to.value
        _touch(booking, now)
        _audit(session, actor, booking, action, before, now, note=note)
        yield booking


def create(
    session: Session,
    *,
    actor: User,
    resource: Resource,
    starts_at: datetime,
    ends_at: datetime,
    purpose: str,
    now: datetime,
) -> Booking:
    """Book a resource for the acting member; requested, or approved at once when the category says so."""
    if not actor.is_active or not actor.is_approved:
        raise Forbidden(_("Votre compte doit être validé par un administrateur avant de réserver."))
    resource_id = resource.id
    with write_transaction(session):
        resource = _lock_resource(session, resource_id)
        category = resource.category
        if resource.is_retired or category.retired_at is not None:
            raise RuleViolation(_("Cette ressource n'est plus réservable."))
        _check_period(category, starts_at, ends_at, now, new=True)
        _check_member_limit(session, actor, category, now)
        held_until = ends_at + category.buffer
        _check_free(session, resource, starts_at, held_until, now)
        status = S.REQUESTED if category.needs_approval else S.APPROVED
        booking = Booking(
            resource_id=resource.id,
            user_id=actor.id,
            starts_at=starts_at,
            ends_at=ends_at,
            held_until=held_until,
            status=status.value,
            purpose=purpose.strip(),
            created_at=now,
            updated_at=now,
            sequence=0,
        )
        if status is S.APPROVED:
            booking.decided_at = now
        session.add(booking)
        _flush_or_conflict(session)
        _audit(session, actor, booking, "create", None, now)
        if status is S.REQUESTED:
            for host in resource.hosts:
                notify.email_user(
                    session,
                    key=f"booking:{booking.id}:requested:to:{host.id}",
                    user=host,
                    subject=_l("Nouvelle demande de réservation"),
                    template="booking_requested",
                    booking=booking,
                    now=now,
                )
    return booking


def change_dates(
    session: Session, *, actor: User, booking: Booking, starts_at: datetime, ends_at: datetime, now: datetime
) -> Booking:
    """The holder moves a booking not yet picked up; an approved one needs approving again."""
    if actor.id != booking.user_id and not can_manage(actor, booking.resource):
        raise Forbidden(_("Ce n'est pas votre réservation."))
    booking_id = booking.id
    with write_transaction(session):
        booking = get(session, booking_id)
        resource = _lock_resource(session, booking.resource_id)
        _require_transition(booking, "change")
        category = resource.category
        _check_period(category, starts_at, ends_at, now, new=True)
        held_until = ends_at + category.buffer
        _check_free(session, resource, starts_at, held_until, now, exclude_booking_id=booking.id)
        before = booking.status
        booking.starts_at, booking.ends_at, booking.held_until = starts_at, ends_at, held_until
        if category.needs_approval and not can_manage(actor, resource):
            booking.status = S.REQUESTED.value
        _touch(booking, now)
        _flush_or_conflict(session)
        _audit(session, actor, booking, "change", before, now)
    return booking


def extend(session: Session, *, actor: User, booking: Booking, ends_at: datetime, now: datetime) -> Booking:
    """Keep an item longer, if nobody has it next (buffer included) and the rules allow."""
    if actor.id != booking.user_id and not can_manage(actor, booking.resource):
        raise Forbidden(_("Ce n'est pas votre réservation."))
    booking_id = booking.id
    with write_transaction(session):
        booking = get(session, booking_id)
        resource = _lock_resource(session, booking.resource_id)
        _require_transition(booking, "extend")
        if ends_at <= booking.ends_at:
            raise RuleViolation(_("La nouvelle fin doit venir après la fin actuelle."), field="ends_at")
        category = resource.category
        _check_period(category, booking.starts_at, ends_at, now, new=False)
        held_until = ends_at + category.buffer
        _check_free(session, resource, booking.starts_at, held_until, now, exclude_booking_id=booking.id)
        old_end = booking.ends_at
        booking.ends_at, booking.held_until = ends_at, held_until
        _touch(booking, now)
        _flush_or_conflict(session)
        _audit(
            session,
            actor,
            booking,
            "extend",
            booking.status,
            now,
            note=f"{old_end.isoformat()} → {ends_at.isoformat()}",
        )
    return booking


def cancel(session: Session, *, actor: User, booking: Booking, now: datetime, reason: str | None = None) -> Booking:
    if actor.id != booking.user_id and not can_manage(actor, booking.resource):
        raise Forbidden(_("Ce n'est pas votre réservation."))
    with _moving(session, actor, booking.id, "cancel", S.CANCELLED, now, note=reason) as booking:
        booking.decision_reason = reason or booking.decision_reason
        if actor.id != booking.user_id:
            notify.email_user(
                session,
                key=f"booking:{booking.id}:cancelled-by-host",
                user=booking.user,
                subject=_l("Votre réservation est annulée"),
                template="booking_cancelled",
                booking=booking,
                reason=reason,
                now=now,
            )
    return booking


def approve(session: Session, *, actor: User, booking: Booking, now: datetime) -> Booking:
    _require_manager(actor, booking.resource)
    with _moving(session, actor, booking.id, "approve", S.APPROVED, now) as booking:
        booking.decided_by_id, booking.decided_at = actor.id, now
        notify.email_user(
            session,
            key=f"booking:{booking.id}:approved",
            user=booking.user,
            subject=_l("Votre réservation est validée"),
            template="booking_approved",
            booking=booking,
            ics=ical.calendar(booking.resource.name, feeds.booking_items(booking, notify.site_domain())).decode(),
            now=now,
        )
    return booking


def reject(session: Session, *, actor: User, booking: Booking, reason: str, now: datetime) -> Booking:
    _require_manager(actor, booking.resource)
    if not reason or not reason.strip():
        raise RuleViolation(_("Dites pourquoi la demande est refusée."), field="reason")
    with _moving(session, actor, booking.id, "reject", S.REJECTED, now, note=reason.strip()) as booking:
        booking.decided_by_id, booking.decided_at = actor.id, now
        booking.decision_reason = reason.strip()
        notify.email_user(
            session,
            key=f"booking:{booking.id}:rejected",
            user=booking.user,
            subject=_l("Votre demande de réservation est refusée"),
            template="booking_rejected",
            booking=booking,
            now=now,
        )
    return booking


def record_pickup(
    session: Session, *, actor: User, booking: Booking, now: datetime, note: str | None = None
) -> Booking:
    _require_manager(actor, booking.resource)
    if not booking.resource.category.needs_pickup:
        raise RuleViolation(_("Un compte en ligne ne se retire pas."))
    with _moving(session, actor, booking.id, "pickup", S.PICKED_UP, now, note=note) as booking:
        if now < booking.starts_at - PICKUP_EARLY:
            raise RuleViolation(_("Trop tôt : le retrait se fait au plus tôt la veille du début."))
        if now >= booking.ends_at:
            raise RuleViolation(_("Cette réservation est terminée : marquez-la plutôt « non retirée »."))
        booking.picked_up_at, booking.handed_over_by_id = now, actor.id
    return booking


def record_return(
    session: Session, *, actor: User, booking: Booking, condition: str, now: datetime, note: str | None = None
) -> Booking:
    _require_manager(actor, booking.resource)
    if condition not in {c.value for c in Condition}:
        raise RuleViolation(_("Indiquez l'état du matériel rendu."), field="condition")
    if condition != Condition.OK and not (note and note.strip()):
        raise RuleViolation(_("Décrivez ce qui manque ou ce qui est abîmé."), field="note")
    trail = f"{condition}: {note}" if note else condition
    with _moving(session, actor, booking.id, "return", S.RETURNED, now, note=trail) as booking:
        booking.returned_at, booking.received_by_id = now, actor.id
        booking.condition, booking.condition_note = condition, (note or "").strip() or None
    return booking


def mark_no_show(session: Session, *, actor: User, booking: Booking, now: datetime) -> Booking:
    _require_manager(actor, booking.resource)
    with _moving(session, actor, booking.id, "no_show", S.NO_SHOW, now) as booking:
        if now < booking.starts_at:
            raise RuleViolation(_("Pas encore : la réservation n'a pas commencé."))
    return booking


def book_a_unit(
    session: Session,
    *,
    actor: User,
    category: Category,
    starts_at: datetime,
    ends_at: datetime,
    purpose: str,
    now: datetime,
    preferred_departement: str | None = None,
) -> Booking:
    """ "Book a kit": any free unit of the category, in the preferred département first."""
    from app.services.catalogue import ResourceFilter, search

    if ends_at <= starts_at:
        raise RuleViolation(_("La fin doit venir après le début."), field="ends_at")
    candidates = list(
        session.scalars(
            search(session, ResourceFilter(category_id=category.id, free_from=starts_at, free_until=ends_at))
        )
    )
    candidates.sort(key=lambda r: (r.departement_code != preferred_departement, r.departement_code, r.id))
    for resource in candidates:
        try:
            return create(
                session, actor=actor, resource=resource, starts_at=starts_at, ends_at=ends_at, purpose=purpose, now=now
            )
        except Conflict:
            continue  # taken meanwhile by someone else: the next unit may still be free
    raise Conflict(
        _("Aucun(e) %(category)s n'est libre sur cette période.", category=category.name.lower()),
        field="starts_at",
    )
