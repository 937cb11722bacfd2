"""Bookings: the rules and the state machine.

requested → approved → picked_up → returned, with rejected, cancelled and no_show on the
side; accounts (no pickup) stay approved until they end. The states and which action may
start from which live on the model (`Booking.TRANSITIONS`). Every change bumps `sequence`
(iCal) and writes an audit entry. Overlaps are refused here, with the next free slot
named, and by the database whatever the code does (PostgreSQL exclusion constraint, SQLite
triggers). Callers own the unit of work: several calls commit together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import Select, func, inspect, select
from sqlalchemy.exc import IntegrityError

from app.db import DbSession, lock, savepoint
from app.i18n import format_datetime
from app.models import Booking, BookingStatus, Category, Resource, User
from app.services import audit, availability, durations, feeds, ical, notify, pickup
from app.services.context import ServiceContext
from app.services.errors import Conflict, DomainError, Forbidden, NotFound, RuleViolation

S = BookingStatus


def get(session: DbSession, booking_id: int) -> Booking:
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise NotFound(_("Cette réservation n'existe pas."))
    return booking


def can_manage(actor: User | None, resource: Resource) -> bool:
    """Admins, and the hosts of the département where the resource is stored."""
    return actor is not None and (actor.is_admin or actor.hosts(resource.departement_code))


def can_see_details(actor: User | None, booking: Booking) -> bool:
    """Who may see who booked and why: the holder, the resource's hosts, admins."""
    return actor is not None and (actor.id == booking.user_id or can_manage(actor, booking.resource))


def visible(session: DbSession, ctx: ServiceContext, booking_id: int) -> Booking:
    """A booking's page: for its holder, the resource's hosts and admins only."""
    booking = get(session, booking_id)
    if not can_see_details(ctx.actor, booking):
        raise Forbidden(_("Ce n'est pas votre réservation."))
    return booking


def require_manager(ctx: ServiceContext, resource: Resource) -> User:
    actor = ctx.user
    if not can_manage(actor, resource):
        raise Forbidden(_("Seul l'hôte du département où la ressource est stockée peut faire cela."))
    return actor


def _require_holder_or_manager(ctx: ServiceContext, booking: Booking) -> User:
    actor = ctx.user
    if actor.id != booking.user_id and not can_manage(actor, booking.resource):
        raise Forbidden(_("Ce n'est pas votre réservation."))
    return actor


def require_transition(booking: Booking, action: str) -> None:
    if not booking.can(action):
        raise Conflict(_("Impossible : cette réservation est « %(status)s ».", status=booking.status.label))


def is_over(booking: Booking, now: datetime) -> bool:
    """Finished is final: past its end, or returned, refused, cancelled, no-show. Nothing about
    it changes any more, so that the history it wrote stays true."""
    return booking.ends_at <= now or not booking.is_holding


def _require_not_over(ctx: ServiceContext, booking: Booking) -> None:
    if is_over(booking, ctx.now):
        raise Conflict(_("Cette réservation est terminée : elle ne se modifie plus."))


def _check_period(
    category: Category, starts_at: datetime, ends_at: datetime, ctx: ServiceContext, *, new: bool
) -> None:
    now = ctx.now
    if ends_at <= starts_at:
        raise RuleViolation(_("La fin doit venir après le début."), field="ends_at")
    if ends_at - starts_at > timedelta(hours=category.max_duration_hours):
        raise RuleViolation(
            _(
                "Trop long : %(duration)s au plus pour cette catégorie.",
                duration=durations.words(category.max_duration_hours),
            ),
            field="ends_at",
        )
    if new:
        if starts_at < now:
            raise RuleViolation(_("Ce début est déjà passé."), field="starts_at")
        if starts_at < now + timedelta(hours=category.min_lead_hours):
            raise RuleViolation(
                _(
                    "Trop tard : réservez au moins %(duration)s avant le début.",
                    duration=durations.words(category.min_lead_hours),
                ),
                field="starts_at",
            )
    if starts_at > now + timedelta(days=category.max_advance_days):
        raise RuleViolation(
            ngettext(
                "Trop tôt : on ne réserve pas plus de %(num)d jour à l'avance.",
                "Trop tôt : on ne réserve pas plus de %(num)d jours à l'avance.",
                category.max_advance_days,
            ),
            field="starts_at",
        )


def _lock_resource(session: DbSession, resource_id: int) -> Resource:
    """The resource, locked on PostgreSQL until the unit of work ends: concurrent bookings of
    one resource wait for each other, and the loser gets the clear message below."""
    resource = lock(session, Resource, resource_id)
    if resource is None:
        raise NotFound(_("Cette ressource n'existe pas."))
    return resource


def _check_free(
    session: DbSession,
    ctx: ServiceContext,
    resource: Resource,
    starts_at: datetime,
    held_until: datetime,
    exclude_booking_id: int | None = None,
) -> None:
    clashes = availability.conflicts(session, resource, starts_at, held_until, exclude_booking_id=exclude_booking_id)
    if not clashes:
        return
    blackout = next((c for c in clashes if c.kind == "blackout"), None)
    broken = next((c for c in clashes if c.kind == "out_of_service"), None)
    if broken is not None:
        message = _("Cet objet est hors service : %(reason)s.", reason=broken.reason)
    elif blackout is not None:
        message = _("Fermé à ces dates : %(reason)s.", reason=blackout.reason)
    else:
        message = _("Déjà réservé sur cette période (battement de préparation compris).")
    duration = held_until - starts_at - resource.category.buffer
    free = next_slot(
        session, ctx, resource, duration=duration, after=max(starts_at, ctx.now), exclude=exclude_booking_id
    )
    if free is None:
        raise Conflict(message, field="starts_at")
    message += " " + _("Prochain créneau libre de cette durée : %(when)s.", when=format_datetime(free, ctx.zone))
    raise Conflict(message, field="starts_at", suggestion=(free, free + duration))


def next_slot(
    session: DbSession,
    ctx: ServiceContext,
    resource: Resource,
    *,
    duration: timedelta,
    after: datetime,
    exclude: int | None = None,
) -> datetime | None:
    """The first start at or after `after` that a person would pick and the rules accept: the
    item free for `duration` plus its buffer, pickup and return within its point's opening
    hours, on a quarter hour; None within the category's horizon."""
    horizon = ctx.now + timedelta(days=resource.category.max_advance_days)
    need = duration + resource.category.buffer
    point = resource.pickup_point
    periods = availability.busy_periods(session, resource, after, horizon + need, exclude_booking_id=exclude)
    candidate = after
    for _step in range(5000):  # each step jumps past a busy period or a quarter hour: bounded either way
        start = pickup.suggest(point, resource, candidate, ctx.zone)
        if start is None or start > horizon:
            return None
        blocking = [p.held_until for p in periods if p.overlaps(start, start + need)]
        if not blocking and pickup.fits(point, resource, start, start + duration, ctx.zone):
            return start
        candidate = max(blocking) if blocking else start + pickup.SUGGESTION_STEP
    return None


def _check_member_limit(session: DbSession, ctx: ServiceContext, user: User, category: Category) -> None:
    if not category.per_member_limit:
        return
    # The member's row is locked until the unit of work ends (PostgreSQL; SQLite's write lock
    # already serialises): two bookings of different units at once cannot both count one too few.
    lock(session, User, user.id)
    active = session.scalar(
        select(func.count())
        .select_from(Booking)
        .join(Resource, Resource.id == Booking.resource_id)
        .where(
            Booking.user_id == user.id,
            Resource.category_id == category.id,
            Booking.is_holding,
            Booking.ends_at > ctx.now,
        )
    )
    if (active or 0) >= category.per_member_limit:
        raise RuleViolation(
            ngettext(
                "Vous avez déjà %(num)d réservation en cours dans cette catégorie, le maximum.",
                "Vous avez déjà %(num)d réservations en cours dans cette catégorie, le maximum.",
                category.per_member_limit,
            )
        )


def _offer_freed(session: DbSession, ctx: ServiceContext, resource: Resource) -> None:
    """Hand what a change just freed to the first person waiting for it (the waitlist)."""
    from app.services import waitlist  # it builds on this module

    waitlist.offer_freed(session, ctx, resources=[resource])


def flush_or_conflict(session: DbSession) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        # The database's own guarantee caught what the check could not see (it should not
        # happen with the lock above, but the database has the last word).
        raise Conflict(_("Déjà réservé sur cette période (battement de préparation compris).")) from exc


def _audit(
    session: DbSession, ctx: ServiceContext, booking: Booking, action: str, before: BookingStatus | None, note=None
) -> None:
    audit.record(
        session,
        ctx,
        subject_type="booking",
        subject_id=booking.id,
        action=action,
        from_state=before,
        to_state=booking.status,
        note=note,
    )


def move(
    session: DbSession,
    ctx: ServiceContext,
    booking: Booking,
    action: str,
    to: BookingStatus,
    note: str | None = None,
    *,
    recorded_as: str | None = None,
) -> BookingStatus:
    """One change of state: checked against the model's transitions, made, counted (sequence)
    and audited — as `recorded_as` when what happened has its own name (a release is checked
    as a cancellation but is not one). The caller sets its own fields, then flushes. Raising
    later in the unit of work undoes it."""
    require_transition(booking, action)
    before = booking.status
    booking.status = to
    booking.touch(ctx.now)
    _audit(session, ctx, booking, recorded_as or action, before, note=note)
    return before


def create(
    session: DbSession,
    ctx: ServiceContext,
    *,
    resource: Resource,
    starts_at: datetime,
    ends_at: datetime,
    purpose: str,
    hours_override: bool = False,
) -> Booking:
    """Book a resource for the acting member; requested, or approved at once when the category says so.

    A host of the item's département may let it start or end outside the opening hours."""
    actor = ctx.user
    if not actor.is_active or not actor.is_approved:
        raise Forbidden(_("Votre compte doit être validé par un administrateur avant de réserver."))
    # Its id from the identity map: reading `resource.id` would first reload the row that the
    # lock is about to read (the unit of work's start expired what the view had loaded).
    known = inspect(resource).identity
    resource = _lock_resource(session, known[0] if known else resource.id)
    category = resource.category
    if resource.is_retired or category.retired_at is not None:
        raise RuleViolation(_("Cette ressource n'est plus réservable."))
    _check_period(category, starts_at, ends_at, ctx, new=True)
    if hours_override and not can_manage(actor, resource):
        raise Forbidden(_("Seul l'hôte du département peut autoriser un horaire hors ouverture."))
    try:
        pickup.check_hours(ctx, resource, starts_at, ends_at, override=hours_override)
    except RuleViolation as closed:
        # As for a clash: offer the first slot of that length the point is open for.
        free = next_slot(session, ctx, resource, duration=ends_at - starts_at, after=max(starts_at, ctx.now))
        if free is not None:
            closed.suggestion = (free, free + (ends_at - starts_at))
        raise
    _check_member_limit(session, ctx, actor, category)
    held_until = ends_at + category.buffer
    _check_free(session, ctx, resource, starts_at, held_until)
    from app.services import release  # it reads bookings too; imported here to avoid a cycle

    # Too many no-shows in the category: the host validates, even where nobody else needs it.
    held_back = release.needs_approval_for(session, ctx, user=actor, category=category)
    status = S.REQUESTED if category.needs_approval or held_back else S.APPROVED
    booking = Booking(
        resource_id=resource.id,
        user_id=actor.id,
        starts_at=starts_at,
        ends_at=ends_at,
        held_until=held_until,
        status=status,
        purpose=purpose.strip(),
        created_at=ctx.now,
        updated_at=ctx.now,
        sequence=0,
        decided_at=ctx.now if status is S.APPROVED else None,
        hours_override=hours_override,
    )
    session.add(booking)
    flush_or_conflict(session)
    _audit(session, ctx, booking, "create", None)
    announce(session, ctx, booking)
    return booking


def announce(session: DbSession, ctx: ServiceContext, booking: Booking) -> None:
    """A booking just made (or a waitlist hold just taken): the holder hears it is approved,
    or the hosts hear of the request, with their one-tap answer links."""
    if booking.status is S.APPROVED:
        _tell_approved(session, ctx, booking)
        return
    for host in booking.resource.hosts:
        notify.email_user(
            session,
            ctx,
            key=f"booking:{booking.id}:requested:to:{host.id}",
            user=host,
            subject=_l("Demande de réservation : %(name)s", name=booking.resource.name),
            template="booking_requested",
            booking=booking,
        )


def change_dates(
    session: DbSession, ctx: ServiceContext, *, booking: Booking, starts_at: datetime, ends_at: datetime
) -> Booking:
    """The holder moves a booking not yet picked up; an approved one needs approving again."""
    actor = _require_holder_or_manager(ctx, booking)
    resource = _lock_resource(session, booking.resource_id)
    require_transition(booking, "change")
    _require_not_over(ctx, booking)
    category = resource.category
    _check_period(category, starts_at, ends_at, ctx, new=True)
    pickup.check_hours(ctx, resource, starts_at, ends_at, override=booking.hours_override)
    held_until = ends_at + category.buffer
    _check_free(session, ctx, resource, starts_at, held_until, exclude_booking_id=booking.id)
    before = booking.status
    booking.starts_at, booking.ends_at, booking.held_until = starts_at, ends_at, held_until
    if category.needs_approval and not can_manage(actor, resource):
        booking.status = S.REQUESTED
    booking.touch(ctx.now)
    flush_or_conflict(session)
    _audit(session, ctx, booking, "change", before)
    _offer_freed(session, ctx, booking.resource)  # what the old dates held may be wanted
    return booking


def extend(session: DbSession, ctx: ServiceContext, *, booking: Booking, ends_at: datetime) -> Booking:
    """Keep an item longer, if nobody has it next (buffer included) and the rules allow."""
    _require_holder_or_manager(ctx, booking)
    resource = _lock_resource(session, booking.resource_id)
    require_transition(booking, "extend")
    _require_not_over(ctx, booking)
    if ends_at <= booking.ends_at:
        raise RuleViolation(_("La nouvelle fin doit venir après la fin actuelle."), field="ends_at")
    category = resource.category
    _check_period(category, booking.starts_at, ends_at, ctx, new=False)
    pickup.check_hours(ctx, resource, booking.starts_at, ends_at, override=booking.hours_override)
    held_until = ends_at + category.buffer
    _check_free(session, ctx, resource, booking.starts_at, held_until, exclude_booking_id=booking.id)
    old_end = booking.ends_at
    booking.ends_at, booking.held_until = ends_at, held_until
    booking.touch(ctx.now)
    flush_or_conflict(session)
    _audit(session, ctx, booking, "extend", booking.status, note=f"{old_end.isoformat()} → {ends_at.isoformat()}")
    return booking


def cancel(session: DbSession, ctx: ServiceContext, *, booking: Booking, reason: str | None = None) -> Booking:
    actor = _require_holder_or_manager(ctx, booking)
    require_transition(booking, "cancel")
    _require_not_over(ctx, booking)
    move(session, ctx, booking, "cancel", S.CANCELLED, note=reason)
    booking.decision_reason = reason or booking.decision_reason
    flush_or_conflict(session)
    _offer_freed(session, ctx, booking.resource)
    if actor.id != booking.user_id:
        notify.email_user(
            session,
            ctx,
            key=f"booking:{booking.id}:cancelled-by-host",
            user=booking.user,
            subject=_l("Votre réservation est annulée"),
            template="booking_cancelled",
            booking=booking,
            reason=reason,
        )
    elif booking.resource.category.needs_pickup:
        # The hosts were told of the request or prepare the handover: they hear it is off.
        for host in booking.resource.hosts:
            notify.email_user(
                session,
                ctx,
                key=f"booking:{booking.id}:cancelled-by-member:to:{host.id}",
                user=host,
                subject=_l("Réservation annulée par son membre : %(name)s", name=booking.resource.name),
                template="booking_cancelled_by_member",
                booking=booking,
            )
    return booking


def approve(session: DbSession, ctx: ServiceContext, *, booking: Booking) -> Booking:
    actor = require_manager(ctx, booking.resource)
    move(session, ctx, booking, "approve", S.APPROVED)
    booking.decided_by_id, booking.decided_at = actor.id, ctx.now
    flush_or_conflict(session)
    _tell_approved(session, ctx, booking)
    return booking


def _tell_approved(session: DbSession, ctx: ServiceContext, booking: Booking) -> None:
    """The holder's confirmation: what, when, and where to pick it up, with the .ics."""
    notify.email_user(
        session,
        ctx,
        key=f"booking:{booking.id}:approved",
        user=booking.user,
        subject=_l("Votre réservation est validée"),
        template="booking_approved",
        booking=booking,
        ics=lambda: ical.calendar(booking.resource.name, feeds.booking_items(booking, ctx.site_domain)).decode(),
    )


def reject(session: DbSession, ctx: ServiceContext, *, booking: Booking, reason: str) -> Booking:
    actor = require_manager(ctx, booking.resource)
    if not reason or not reason.strip():
        raise RuleViolation(_("Dites pourquoi la demande est refusée."), field="reason")
    move(session, ctx, booking, "reject", S.REJECTED, note=reason.strip())
    booking.decided_by_id, booking.decided_at = actor.id, ctx.now
    booking.decision_reason = reason.strip()
    flush_or_conflict(session)
    _offer_freed(session, ctx, booking.resource)
    notify.email_user(
        session,
        ctx,
        key=f"booking:{booking.id}:rejected",
        user=booking.user,
        subject=_l("Votre demande de réservation est refusée"),
        template="booking_rejected",
        booking=booking,
    )
    return booking


def book_a_unit(
    session: DbSession,
    ctx: ServiceContext,
    *,
    category: Category,
    starts_at: datetime,
    ends_at: datetime,
    purpose: str,
    preferred_departement: str | None = None,
) -> Booking:
    """ "Book a kit": any free unit of the category, nearest first — the preferred département
    (else the member's), then its neighbours, then the rest. When none is free, the refusal
    names the first time one would be."""
    from app.services import geography
    from app.services.catalogue import ResourceFilter, search

    if ends_at <= starts_at:
        raise RuleViolation(_("La fin doit venir après le début."), field="ends_at")
    home = preferred_departement or ctx.user.departement_code or ""
    candidates = list(
        session.scalars(
            search(session, ResourceFilter(category_id=category.id, free_from=starts_at, free_until=ends_at))
        ).unique()
    )
    order = {
        code: rank for rank, code in enumerate(geography.nearest_first(home, {r.departement_code for r in candidates}))
    }
    candidates.sort(key=lambda r: (order[r.departement_code], r.id))
    refusals: list[DomainError] = []
    for resource in candidates:
        try:
            with savepoint(session):
                return create(session, ctx, resource=resource, starts_at=starts_at, ends_at=ends_at, purpose=purpose)
        except (Conflict, RuleViolation) as refused:
            refusals.append(refused)  # taken meanwhile, or outside its point's hours: try the next unit
    message = _("Aucun exemplaire « %(category)s » n'est libre sur cette période.", category=category.name)
    if refusals and all(isinstance(r, RuleViolation) for r in refusals):
        raise RuleViolation(refusals[0].message, field=refusals[0].field)
    soonest = _soonest_unit(session, ctx, category, duration=ends_at - starts_at, after=max(starts_at, ctx.now))
    if soonest is not None:
        unit, start = soonest
        message += " " + _(
            "Le plus tôt : %(name)s (%(place)s), à partir du %(when)s.",
            name=unit.name,
            place=unit.departement.label,
            when=format_datetime(start, ctx.zone),
        )
        raise Conflict(message, field="starts_at", suggestion=(start, start + (ends_at - starts_at)))
    raise Conflict(message, field="starts_at")


def _soonest_unit(
    session: DbSession, ctx: ServiceContext, category: Category, *, duration: timedelta, after: datetime
) -> tuple[Resource, datetime] | None:
    """The unit of the category that frees first for `duration`, and when."""
    from app.services.catalogue import ResourceFilter, search

    best: tuple[Resource, datetime] | None = None
    for unit in session.scalars(search(session, ResourceFilter(category_id=category.id))).unique():
        start = next_slot(session, ctx, unit, duration=duration, after=after)
        if start is not None and (best is None or start < best[1]):
            best = (unit, start)
    return best


@dataclass
class MyBookings:
    """A member's bookings by phase at ctx.now, as the model's hybrids define the phases."""

    late: list[Booking]
    current: list[Booking]
    upcoming: list[Booking]
    past: Select[Booking]  # to paginate


def of_member(session: DbSession, ctx: ServiceContext) -> MyBookings:
    now = ctx.now
    base = select(Booking).where(Booking.user_id == ctx.user.id)

    def fetch(query: Select[Booking]) -> list[Booking]:
        return list(session.scalars(query).unique())

    return MyBookings(
        late=fetch(base.where(Booking.is_late_at(now)).order_by(Booking.ends_at)),
        current=fetch(base.where(Booking.is_current_at(now), ~Booking.is_late_at(now)).order_by(Booking.ends_at)),
        upcoming=fetch(base.where(Booking.is_upcoming_at(now)).order_by(Booking.starts_at)),
        past=base.where(Booking.is_past_at(now)).order_by(Booking.starts_at.desc()),
    )
