"""Items out of service: taken out of the catalogue's reach, repaired, put back.

A host puts an item out of service (from a return found incomplete or damaged, or at any
time) with a reason; the period starts at once and stays open until a host puts the item
back. While it is open nobody can book the item: booking.py refuses it in words (the period
is a busy period of availability.py, as closures are), a swap onto it is refused here, and
the database refuses it whatever writes the row (migration 0008). Each person holding a later booking of
the item is emailed and offered, in one tap, a free unit of the same category — nearest
département first — or a cancellation.

booking.py's functions are reached as `bookings.fn` at call time, never imported by name,
so that either module may import the other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.exc import IntegrityError

from app.db import DbSession, lock
from app.models import (
    AuditEntry,
    Booking,
    BookingStatus,
    Handover,
    HandoverKind,
    OutOfService,
    RepairNote,
    Resource,
    User,
)
from app.services import audit, availability, geography, notify, pickup
from app.services import booking as bookings
from app.services.context import ServiceContext
from app.services.errors import Conflict, Forbidden, NotFound, RuleViolation

S = BookingStatus
REASON_MAX = 500
# Bookings not yet handed over: the ones a holder can still move or cancel. A booking already
# picked up is with its holder, whatever the item's state; the return tells the rest.
MOVABLE = (S.REQUESTED, S.APPROVED)
# How many other units the holder is offered: the nearest ones; a longer list is not a choice.
OFFERED = 10


# Reading ---------------------------------------------------------------------------------------


def get(session: DbSession, period_id: int) -> OutOfService:
    period = session.get(OutOfService, period_id)
    if period is None:
        raise NotFound(_("Cette mise hors service n'existe pas."))
    return period


def open_period(session: DbSession, resource_id: int) -> OutOfService | None:
    """The item's current out-of-service period; at most one (put_out_of_service sees to it)."""
    return session.scalar(
        select(OutOfService)
        .where(OutOfService.resource_id == resource_id, OutOfService.ends_at.is_(None))
        .order_by(OutOfService.starts_at.desc(), OutOfService.id.desc())
        .limit(1)
    )


def open_periods(session: DbSession, resource_ids: Iterable[int]) -> dict[int, OutOfService]:
    """The open periods of many items in one query (a catalogue page, a label sheet)."""
    ids = list(set(resource_ids))
    if not ids:
        return {}
    found = session.scalars(
        select(OutOfService)
        .where(OutOfService.resource_id.in_(ids), OutOfService.ends_at.is_(None))
        .order_by(OutOfService.starts_at, OutOfService.id)
    )
    return {period.resource_id: period for period in found}


def periods_of(session: DbSession, resource_id: int) -> list[OutOfService]:
    """Every period of the item, the latest first: its repair history."""
    return list(
        session.scalars(
            select(OutOfService)
            .where(OutOfService.resource_id == resource_id)
            .order_by(OutOfService.starts_at.desc(), OutOfService.id.desc())
        )
    )


def _covering(resource_id: int, starts_at: datetime, held_until: datetime):
    return select(OutOfService).where(
        OutOfService.resource_id == resource_id,
        OutOfService.starts_at < held_until,
        or_(OutOfService.ends_at.is_(None), OutOfService.ends_at > starts_at),
    )


def _covering_period(session: DbSession, found: Booking) -> OutOfService | None:
    return session.scalars(_covering(found.resource_id, found.starts_at, found.held_until).limit(1)).first()


def in_service_clause(starts_at: datetime, held_until: datetime) -> ColumnElement[bool]:
    """A WHERE clause on Resource: no out-of-service period over [starts_at, held_until)."""
    return ~exists().where(
        OutOfService.resource_id == Resource.id,
        OutOfService.starts_at < held_until,
        or_(OutOfService.ends_at.is_(None), OutOfService.ends_at > starts_at),
    )


def check_in_service(session: DbSession, resource: Resource, starts_at: datetime, held_until: datetime) -> None:
    """Refuse, in words, a holding period over a time the item is out of service.

    The database refuses it too (migration 0008), but with an error nobody should read.
    """
    period = session.scalars(_covering(resource.id, starts_at, held_until).limit(1)).first()
    if period is not None:
        raise RuleViolation(
            _(
                "« %(name)s » est hors service (%(reason)s) : on ne peut pas le réserver "
                "tant qu'un hôte ne l'a pas remis en service.",
                name=resource.name,
                reason=period.reason,
            ),
            field="starts_at",
        )


# Who may -------------------------------------------------------------------------------------


def _not_a_host() -> str:
    return _("Seuls les hôtes du département où l'objet est rangé et les administrateurs peuvent faire cela.")


def _require_manager(ctx: ServiceContext, resource: Resource) -> User:
    actor = ctx.user
    if not bookings.can_manage(actor, resource):
        raise Forbidden(_not_a_host())
    return actor


def _may_act_on_handover(actor: User, handover: Handover) -> bool:
    """The host who recorded the return, or any host of the item's département (or an admin)."""
    return actor.id == handover.recorded_by_id or bookings.can_manage(actor, handover.booking.resource)


def _require_holder(ctx: ServiceContext, found: Booking) -> User:
    actor = ctx.user
    if actor.id != found.user_id:
        raise Forbidden(_("Ce n'est pas votre réservation."))
    return actor


# Putting out of service --------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """What the "Mettre hors service ?" page shows after a return."""

    handover: Handover
    resource: Resource
    reason: str
    already: OutOfService | None
    # Whose bookings it would fall on, put out of service now.
    affected: list[Booking]


def get_handover(session: DbSession, handover_id: int) -> Handover:
    handover = session.get(Handover, handover_id)
    if handover is None:
        raise NotFound(_("Ce retour n'existe pas."))
    return handover


def proposal(session: DbSession, ctx: ServiceContext, *, handover: Handover) -> Proposal:
    """The return's note as the suggested reason; for the host who recorded it and the item's hosts."""
    actor = ctx.user
    if not _may_act_on_handover(actor, handover):
        raise Forbidden(_not_a_host())
    _check_usable(handover)
    resource = handover.booking.resource
    reason = (handover.note or "").strip() or str(handover.condition.label)
    return Proposal(
        handover=handover,
        resource=resource,
        reason=reason[:REASON_MAX],
        already=open_period(session, resource.id),
        affected=_movable(session, ctx.now, resource.id, ctx.now, None),
    )


def _check_usable(handover: Handover) -> None:
    if handover.kind is not HandoverKind.RETURN:
        raise RuleViolation(_("Seul un retour peut mettre un objet hors service."))
    if handover.undone_at is not None:
        raise Conflict(_("Ce retour a été annulé."))


def put_out_of_service(
    session: DbSession, ctx: ServiceContext, *, resource: Resource, reason: str, handover: Handover | None = None
) -> OutOfService:
    """From now on, until a host puts it back: the item cannot be booked; later holders are told.

    The item's hosts and admins; from a return, also the host who recorded it. One open
    period per item: a second one is refused.
    """
    actor = ctx.user
    if handover is not None:
        if handover.booking.resource_id != resource.id:
            raise RuleViolation(_("Ce retour concerne un autre objet."))
        if not _may_act_on_handover(actor, handover):
            _require_manager(ctx, resource)
        _check_usable(handover)
    else:
        _require_manager(ctx, resource)
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation(_("Dites pourquoi l'objet est hors service."), field="reason")
    if len(reason) > REASON_MAX:
        raise RuleViolation(_("%(n)d caractères au plus.", n=REASON_MAX), field="reason")
    # Two hosts tapping at once: the second one waits here, then sees the first one's period.
    locked = lock(session, Resource, resource.id)
    if locked is None:
        raise NotFound(_("Cette ressource n'existe pas."))
    resource = locked
    already = open_period(session, resource.id)
    if already is not None:
        raise Conflict(_("Cet objet est déjà hors service (%(reason)s).", reason=already.reason))
    period = OutOfService(
        resource_id=resource.id,
        starts_at=ctx.now,
        ends_at=None,
        reason=reason,
        created_by_id=actor.id,
        handover_id=handover.id if handover is not None else None,
    )
    session.add(period)
    session.flush()
    audit.record(
        session,
        ctx,
        subject_type="resource",
        subject_id=resource.id,
        action="out-of-service",
        from_state="in_service",
        to_state="out_of_service",
        note=reason,
    )
    for held in _affected(session, ctx.now, period):
        notify.email_user(
            session,
            ctx,
            key=f"booking:{held.id}:out-of-service:{period.id}",
            user=held.user,
            subject=_l("Le matériel que vous avez réservé est hors service"),
            template="out_of_service_holder",
            booking=held,
            period=period,
        )
    return period


def _affected(session: DbSession, now: datetime, period: OutOfService) -> list[Booking]:
    return _movable(session, now, period.resource_id, period.starts_at, period.ends_at)


def _movable(
    session: DbSession, now: datetime, resource_id: int, since: datetime, until: datetime | None
) -> list[Booking]:
    """The item's bookings not yet handed over, not yet ended, that [since, until) falls on."""
    query = select(Booking).where(
        Booking.resource_id == resource_id,
        Booking.status.in_(MOVABLE),
        Booking.ends_at > now,
        Booking.held_until > since,
    )
    if until is not None:
        query = query.where(Booking.starts_at < until)
    return list(session.scalars(query.order_by(Booking.starts_at, Booking.id)).unique())


def affected_bookings(session: DbSession, ctx: ServiceContext, *, period: OutOfService) -> list[Booking]:
    """The item's bookings not yet handed over that the period falls on, soonest first (for its hosts)."""
    _require_manager(ctx, _resource_of(session, period))
    return _affected(session, ctx.now, period)


def _resource_of(session: DbSession, period: OutOfService) -> Resource:
    resource = session.get(Resource, period.resource_id)
    if resource is None:
        raise NotFound(_("Cette ressource n'existe pas."))
    return resource


# The repair log and back in service ------------------------------------------------------------


def add_repair_note(session: DbSession, ctx: ServiceContext, *, period: OutOfService, note: str) -> RepairNote:
    actor = _require_manager(ctx, _resource_of(session, period))
    note = (note or "").strip()
    if not note:
        raise RuleViolation(_("Écrivez ce qui a été fait ou constaté."), field="note")
    if period.ends_at is not None:
        raise Conflict(_("Cet objet a déjà été remis en service."))
    entry = RepairNote(out_of_service_id=period.id, at=ctx.now, author_id=actor.id, note=note)
    session.add(entry)
    session.flush()
    return entry


def back_in_service(session: DbSession, ctx: ServiceContext, *, period: OutOfService) -> OutOfService:
    """The period ends now; the item can be booked again."""
    actor = _require_manager(ctx, _resource_of(session, period))
    locked = lock(session, OutOfService, period.id)
    if locked is None:
        raise NotFound(_("Cette mise hors service n'existe pas."))
    if locked.ends_at is not None:
        raise Conflict(_("Cet objet a déjà été remis en service."))
    # A period must end after it starts (a CHECK constraint): put back the very instant it was
    # taken out (a mis-tap), it still lasted a second.
    locked.ends_at = max(ctx.now, locked.starts_at + timedelta(seconds=1))
    locked.ended_by_id = actor.id
    session.flush()
    audit.record(
        session,
        ctx,
        subject_type="resource",
        subject_id=locked.resource_id,
        action="back-in-service",
        from_state="out_of_service",
        to_state="in_service",
    )
    from app.services import waitlist  # it builds on the booking services this module uses

    waitlist.offer_freed(session, ctx, resources=[_resource_of(session, locked)])
    return locked


@dataclass(frozen=True)
class ItemState:
    """An item as its hosts see it: its state, the open period, its history and who is affected."""

    resource: Resource
    period: OutOfService | None
    periods: list[OutOfService]
    # The bookings the open period falls on; in service, those it would fall on, put out now.
    affected: list[Booking]


def overview(session: DbSession, ctx: ServiceContext, *, resource: Resource) -> ItemState:
    _require_manager(ctx, resource)
    period = open_period(session, resource.id)
    return ItemState(
        resource=resource,
        period=period,
        periods=periods_of(session, resource.id),
        affected=(
            _affected(session, ctx.now, period)
            if period is not None
            else _movable(session, ctx.now, resource.id, ctx.now, None)
        ),
    )


# Another unit, or a cancellation ----------------------------------------------------------------


@dataclass(frozen=True)
class Alternative:
    resource: Resource
    # Kept in another département than the one the holder was going to: they should know.
    elsewhere: bool
    # Borders crossed from the booked item's département (0: the same one).
    distance: int


@dataclass(frozen=True)
class Offer:
    booking: Booking
    period: OutOfService | None
    alternatives: list[Alternative]
    # The booking was already moved to another unit (its own out-of-service one is left behind).
    swapped: bool = False


def _free_units(session: DbSession, ctx: ServiceContext, found: Booking) -> list[Resource]:
    from app.services.catalogue import ResourceFilter, search

    home = found.resource
    candidates = [
        r
        for r in session.scalars(
            search(
                session,
                ResourceFilter(category_id=home.category_id, free_from=found.starts_at, free_until=found.ends_at),
            ).where(Resource.id != home.id, in_service_clause(found.starts_at, found.held_until))
        ).unique()
        if pickup.fits(r.pickup_point, r, found.starts_at, found.ends_at, ctx.zone)
    ]
    codes = geography.nearest_first(home.departement_code, [r.departement_code for r in candidates])
    order = {code: i for i, code in enumerate(codes)}
    return sorted(candidates, key=lambda r: (order[r.departement_code], r.name, r.id))[:OFFERED]


def alternatives(session: DbSession, ctx: ServiceContext, *, booking: Booking) -> Offer:
    """For the holder: free units of the same category for the same dates, nearest département first."""
    _require_holder(ctx, booking)
    period = _covering_period(session, booking)
    home = booking.resource.departement_code
    units = _free_units(session, ctx, booking) if period is not None and booking.can("change") else []
    swapped = (
        session.scalar(
            select(AuditEntry.id).where(
                AuditEntry.subject_type == "booking", AuditEntry.subject_id == booking.id, AuditEntry.action == "swap"
            )
        )
        is not None
    )
    return Offer(
        booking=booking,
        period=period,
        swapped=swapped,
        alternatives=[
            Alternative(
                resource=r, elsewhere=r.departement_code != home, distance=geography.distance(home, r.departement_code)
            )
            for r in units
        ],
    )


def swap_unit(session: DbSession, ctx: ServiceContext, *, booking: Booking, resource: Resource) -> Booking:
    """Move a booking not yet handed over to another unit of the same category, same dates.

    The holder, when their item is out of service over their booking; a host of the booked
    item (or an admin) at any time. The other unit must be free by the booking's rules.
    """
    actor = ctx.user
    # Re-read and locked: a cancellation or another swap of the same booking waits, then is seen.
    locked = lock(session, Booking, booking.id)
    if locked is None:
        raise NotFound(_("Cette réservation n'existe pas."))
    booking = locked
    source = booking.resource
    manages = bookings.can_manage(actor, source)
    if actor.id != booking.user_id and not manages:
        raise Forbidden(_("Ce n'est pas votre réservation."))
    bookings.require_transition(booking, "change")
    if not manages and _covering_period(session, booking) is None:
        raise RuleViolation(
            _("Votre réservation n'est pas touchée par une mise hors service : changez plutôt ses dates ou annulez-la.")
        )
    target = lock(session, Resource, resource.id)
    if target is None:
        raise NotFound(_("Cette ressource n'existe pas."))
    if target.id == source.id:
        raise RuleViolation(_("C'est déjà l'objet réservé."), field="resource")
    if target.category_id != source.category_id:
        raise RuleViolation(_("On ne peut prendre qu'un objet de la même catégorie."), field="resource")
    if target.is_retired or target.category.retired_at is not None:
        raise RuleViolation(_("Cette ressource n'est plus réservable."), field="resource")
    check_in_service(session, target, booking.starts_at, booking.held_until)
    if availability.conflicts(session, target, booking.starts_at, booking.held_until, exclude_booking_id=booking.id):
        raise Conflict(_("« %(name)s » est déjà réservé à ces dates.", name=target.name), field="resource")
    # A host's exception to the opening hours was granted for the booked item's point only.
    pickup.check_hours(
        ctx,
        target,
        booking.starts_at,
        booking.ends_at,
        override=booking.hours_override and bookings.can_manage(actor, target),
    )
    name = target.name  # readable still after a failed flush has expired the session's objects
    booking.resource = target
    booking.touch(ctx.now)
    try:
        session.flush()
    except IntegrityError as exc:
        # Taken, or put out of service, meanwhile: the database has the last word.
        if "out_of_service" in str(exc.orig):
            raise Conflict(_("Cet objet vient d'être mis hors service."), field="resource") from exc
        raise Conflict(
            _("« %(name)s » vient d'être réservé par quelqu'un d'autre.", name=name), field="resource"
        ) from exc
    audit.record(
        session,
        ctx,
        subject_type="booking",
        subject_id=booking.id,
        action="swap",
        from_state=booking.status,
        to_state=booking.status,
        note=f"{source.name} ({source.departement_code}) → {target.name} ({target.departement_code})",
    )
    if target.departement_code != source.departement_code:
        # The other département's hosts will hand it over: they learn it now, not at the desk.
        for host in target.hosts:
            if host.id != actor.id:
                notify.email_user(
                    session,
                    ctx,
                    key=f"booking:{booking.id}:swapped-to:{target.id}:host:{host.id}",
                    user=host,
                    subject=_l("Une réservation passe sur un objet de votre département"),
                    template="out_of_service_moved_here",
                    booking=booking,
                    source=source,
                )
    return booking


def cancel_instead(session: DbSession, ctx: ServiceContext, *, booking: Booking) -> Booking:
    """The holder gives up a booking whose item is out of service (booking.cancel, with the reason said)."""
    _require_holder(ctx, booking)
    return bookings.cancel(session, ctx, booking=booking, reason=_("Objet hors service"))
