"""The equipment waitlist: « Prévenez-moi si cela se libère ».

A member refused a slot leaves a wish (a resource, or any unit of a category, over a period).
Whenever a unit frees — a cancellation, a refusal, a shortened or moved booking, an account
released, a closure lifted, an item back in service, a hold declined or lapsed — the service
that freed it calls `offer_freed` in the same unit of work. The oldest waiting wish that the
freed unit now fits gets a hold: a booking in the PROPOSED state, which holds the slot under
the same no-overlap guarantee as any booking, so of two promotions at once only one can take
a slot (the database refuses the other). The holder confirms or declines (signed links in the
email, or the booking page) within HOLD_FOR; the minute tick lets unanswered holds lapse and
passes the slot to the next person.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.db import DbSession, lock, savepoint
from app.models import Booking, BookingStatus, Category, Resource, Wish, WishStatus
from app.services import audit, availability, notify, pickup
from app.services import booking as bookings
from app.services.context import ServiceContext
from app.services.errors import Forbidden, NotFound, RuleViolation

S = BookingStatus
W = WishStatus
HOLD_FOR = timedelta(hours=24)
# Enough for a busy term; more is someone (or something) filling the list.
MAX_WAITING = 20


def get(session: DbSession, wish_id: int) -> Wish:
    found = session.get(Wish, wish_id)
    if found is None:
        raise NotFound(_("Ce souhait n'existe pas."))
    return found


def hold_of(session: DbSession, booking: Booking) -> Wish | None:
    """The wish a PROPOSED (or once proposed) booking was offered for."""
    return session.scalar(select(Wish).where(Wish.booking_id == booking.id))


def _audit(session: DbSession, ctx: ServiceContext, wish: Wish, action: str, before: WishStatus | None) -> None:
    audit.record(
        session, ctx, subject_type="wish", subject_id=wish.id, action=action, from_state=before, to_state=wish.status
    )


def _settle(session: DbSession, ctx: ServiceContext, wish: Wish, action: str, to: WishStatus) -> None:
    if not wish.can(action):
        raise RuleViolation(_("Ce souhait est déjà « %(status)s ».", status=wish.status.label))
    before = wish.status
    wish.status = to
    if to is not W.OFFERED:
        wish.settled_at = ctx.now
    _audit(session, ctx, wish, action, before)


# Making and withdrawing a wish --------------------------------------------------------------------


def wish(
    session: DbSession,
    ctx: ServiceContext,
    *,
    starts_at: datetime,
    ends_at: datetime,
    resource: Resource | None = None,
    category: Category | None = None,
    departement_code: str | None = None,
    purpose: str = "",
) -> Wish:
    """Record that the acting member wants `resource` (or any unit of `category`, kept in
    `departement_code` when given) over the period, should it free."""
    actor = ctx.user
    if not actor.is_active or not actor.is_approved:
        raise Forbidden(_("Votre compte doit être validé par un administrateur avant de réserver."))
    if (resource is None) == (category is None):
        raise RuleViolation(_("Dites ce que vous attendez : un objet, ou une catégorie."))
    kind = resource.category if resource is not None else category
    assert kind is not None
    if (resource is not None and resource.is_retired) or kind.retired_at is not None:
        raise RuleViolation(_("Cette ressource n'est plus réservable."))
    # The same rules as a booking: a wish in the past, too long or too far ahead is refused now,
    # not when it would be offered.
    bookings._check_period(kind, starts_at, ends_at, ctx, new=True)
    if resource is not None:
        pickup.check_hours(ctx, resource, starts_at, ends_at, override=False)
    units = [resource] if resource is not None else _units(session, kind, departement_code)
    if not units:
        raise RuleViolation(_("Aucun objet de cette catégorie n'est réservable ici."))
    if any(_fits(session, ctx, unit, starts_at, ends_at) for unit in units):
        raise RuleViolation(_("C'est libre sur cette période : réservez directement."))
    waiting = session.scalars(
        select(Wish).where(Wish.user_id == actor.id, Wish.status.in_((W.WAITING, W.OFFERED)))
    ).all()
    same = [
        w
        for w in waiting
        if w.resource_id == (resource.id if resource else None)
        and w.category_id == (category.id if category else None)
        and w.starts_at < ends_at
        and starts_at < w.ends_at
    ]
    if same:
        raise RuleViolation(_("Vous attendez déjà cela sur cette période."))
    if len(waiting) >= MAX_WAITING:
        raise RuleViolation(_("Vous attendez déjà %(n)d créneaux : retirez-en un d'abord.", n=MAX_WAITING))
    made = Wish(
        user_id=actor.id,
        resource_id=resource.id if resource is not None else None,
        category_id=category.id if category is not None else None,
        departement_code=departement_code if category is not None else None,
        starts_at=starts_at,
        ends_at=ends_at,
        purpose=purpose.strip()[:500],
        status=W.WAITING,
        created_at=ctx.now,
    )
    session.add(made)
    session.flush()
    _audit(session, ctx, made, "create", None)
    return made


def withdraw(session: DbSession, ctx: ServiceContext, *, wish: Wish) -> Wish:
    """The member no longer waits; a hold they had goes to the next person."""
    current = lock(session, Wish, wish.id)
    if current is None:
        raise NotFound(_("Ce souhait n'existe pas."))
    if ctx.user.id != current.user_id and not ctx.user.is_admin:
        raise Forbidden(_("Ce souhait n'est pas le vôtre."))
    if current.status is W.OFFERED and current.booking is not None:
        decline(session, ctx, booking=current.booking)
        return current
    _settle(session, ctx, current, "withdraw", W.WITHDRAWN)
    session.flush()
    return current


def of_member(session: DbSession, ctx: ServiceContext) -> list[Wish]:
    """The acting member's wishes still waiting or offered, soonest period first."""
    return list(
        session.scalars(
            select(Wish)
            .where(Wish.user_id == ctx.user.id, Wish.status.in_((W.WAITING, W.OFFERED)))
            .order_by(Wish.starts_at, Wish.id)
        ).unique()
    )


def _units(session: DbSession, category: Category, departement_code: str | None) -> list[Resource]:
    query = select(Resource).where(Resource.category_id == category.id, Resource.retired_at.is_(None))
    if departement_code:
        query = query.where(Resource.departement_code == departement_code)
    return list(session.scalars(query.order_by(Resource.id)).unique())


def _fits(session: DbSession, ctx: ServiceContext, unit: Resource, starts_at: datetime, ends_at: datetime) -> bool:
    """The unit could be booked over the period right now: free (buffer included), in service,
    open, within its point's hours."""
    if unit.is_retired:
        return False
    try:
        pickup.check_hours(ctx, unit, starts_at, ends_at, override=False)
    except RuleViolation:
        return False
    return not availability.conflicts(session, unit, starts_at, ends_at + unit.category.buffer)


# Offering what frees -----------------------------------------------------------------------------


def offer_freed(session: DbSession, ctx: ServiceContext, *, resources: Iterable[Resource]) -> list[Wish]:
    """Offer what just freed on `resources` to the people waiting for it, first come first served.

    Called by every service that frees a slot, after its own change is flushed. Each wish is
    locked and read again before it is offered, and each hold is inserted in a savepoint: of two
    promotions at once, the database lets one hold a slot and the other moves on.
    """
    freed = {r.id: r for r in resources}
    if not freed:
        return []
    categories = {r.category_id for r in freed.values()}
    candidates = session.scalars(
        select(Wish.id)
        .where(
            Wish.status == W.WAITING,
            Wish.starts_at > ctx.now,
            or_(Wish.resource_id.in_(freed), Wish.category_id.in_(categories)),
        )
        .order_by(Wish.created_at, Wish.id)
    ).all()
    # The slot is handed over by the rule, not by whoever freed it: the history shows the system.
    system = ctx.acting_as(None)
    offered = []
    for wish_id in candidates:
        current = lock(session, Wish, wish_id)
        if current is None or current.status is not W.WAITING:
            continue  # offered meanwhile by a concurrent freeing
        units = [r for r in freed.values() if _wanted(current, r)]
        units.sort(key=lambda r: _distance(current, r))
        for unit in units:
            hold = _hold(session, system, current, unit)
            if hold is not None:
                offered.append(current)
                break
    return offered


def _wanted(wish: Wish, unit: Resource) -> bool:
    if wish.resource_id is not None:
        return unit.id == wish.resource_id
    return unit.category_id == wish.category_id and wish.departement_code in (None, unit.departement_code)


def _distance(wish: Wish, unit: Resource) -> tuple[int, int]:
    from app.services import geography

    home = wish.user.departement_code
    return (geography.distance(home, unit.departement_code) if home else 0, unit.id)


def _hold(session: DbSession, ctx: ServiceContext, wish: Wish, unit: Resource) -> Booking | None:
    """A PROPOSED booking of `unit` for the wish, or None when the unit does not fit it now."""
    resource = bookings._lock_resource(session, unit.id)
    if not _fits(session, ctx, resource, wish.starts_at, wish.ends_at):
        return None
    hold = Booking(
        resource_id=resource.id,
        user_id=wish.user_id,
        starts_at=wish.starts_at,
        ends_at=wish.ends_at,
        held_until=wish.ends_at + resource.category.buffer,
        status=S.PROPOSED,
        purpose=wish.purpose,
        created_at=ctx.now,
        updated_at=ctx.now,
        sequence=0,
    )
    try:
        with savepoint(session):
            session.add(hold)
            session.flush()
    except IntegrityError:
        return None  # taken meanwhile: the database's guarantee had the last word
    bookings._audit(session, ctx, hold, "offer", None)
    _settle(session, ctx, wish, "offer", W.OFFERED)
    wish.booking_id = hold.id
    wish.offered_at = ctx.now
    # A day to answer, but never past the start: an answer after it is worth nothing.
    wish.offer_expires_at = min(ctx.now + HOLD_FOR, wish.starts_at)
    session.flush()
    notify.email_user(
        session,
        ctx,
        key=f"wish:{wish.id}:offered",
        user=wish.user,
        subject=_l("Un créneau s'est libéré : %(name)s", name=resource.name),
        template="waitlist_offered",
        booking=hold,
        wish=wish,
    )
    return hold


# Answering a hold --------------------------------------------------------------------------------


def _held(session: DbSession, ctx: ServiceContext, booking: Booking, action: str) -> tuple[Booking, Wish]:
    # The resource first, as every booking service locks it: no deadlock with a booking being made.
    bookings._lock_resource(session, booking.resource_id)
    current = lock(session, Booking, booking.id)
    if current is None:
        raise NotFound(_("Cette réservation n'existe pas."))
    if ctx.actor is not None and ctx.user.id != current.user_id:
        raise Forbidden(_("Ce créneau est proposé à une autre personne."))
    bookings.require_transition(current, action)
    found = hold_of(session, current)
    if found is None:
        raise NotFound(_("Ce créneau n'a pas été proposé par la liste d'attente."))
    wish = lock(session, Wish, found.id)
    assert wish is not None
    return current, wish


def confirm(session: DbSession, ctx: ServiceContext, *, booking: Booking) -> Booking:
    """The holder takes the slot: it becomes a booking like any other, requested from the host
    or approved at once as its category (and the no-show rule) says."""
    from app.services import release

    current, wish = _held(session, ctx, booking, "confirm")
    assert wish.offer_expires_at is not None
    if ctx.now >= wish.offer_expires_at:
        raise RuleViolation(_("Cette option a expiré : le créneau est passé à la personne suivante."))
    category = current.resource.category
    held_back = release.needs_approval_for(session, ctx, user=current.user, category=category)
    to = S.REQUESTED if category.needs_approval or held_back else S.APPROVED
    bookings.move(session, ctx, current, "confirm", to)
    if to is S.APPROVED:
        current.decided_at = ctx.now
    _settle(session, ctx, wish, "confirm", W.CONFIRMED)
    bookings.flush_or_conflict(session)
    bookings.announce(session, ctx, current)
    return current


def decline(session: DbSession, ctx: ServiceContext, *, booking: Booking) -> Booking:
    """The holder does not want it after all: the slot goes to the next person waiting."""
    current, wish = _held(session, ctx, booking, "decline")
    bookings.move(session, ctx, current, "decline", S.CANCELLED)
    _settle(session, ctx, wish, "decline", W.DECLINED)
    bookings.flush_or_conflict(session)
    offer_freed(session, ctx, resources=[current.resource])
    return current


def due_lapses(session: DbSession, ctx: ServiceContext) -> list[Booking]:
    """Holds nobody answered in time, at ctx.now."""
    return list(
        session.scalars(
            select(Booking)
            .join(Wish, Wish.booking_id == Booking.id)
            .where(Booking.status == S.PROPOSED, Wish.offer_expires_at <= ctx.now)
            .order_by(Wish.offer_expires_at, Booking.id)
        ).unique()
    )


def lapse(session: DbSession, ctx: ServiceContext, *, booking: Booking) -> Booking | None:
    """Let one unanswered hold lapse and pass the slot on; None when it was answered meanwhile."""
    current = lock(session, Booking, booking.id)
    if current is None or not current.can("lapse"):
        return None
    wish = hold_of(session, current)
    if wish is None or wish.offer_expires_at is None or wish.offer_expires_at > ctx.now:
        return None
    system = ctx.acting_as(None)
    bookings.move(session, system, current, "lapse", S.LAPSED)
    _settle(session, system, wish, "lapse", W.LAPSED)
    bookings.flush_or_conflict(session)
    notify.email_user(
        session,
        system,
        key=f"wish:{wish.id}:lapsed",
        user=wish.user,
        subject=_l("Option expirée : %(name)s", name=current.resource.name),
        template="waitlist_lapsed",
        booking=current,
        wish=wish,
    )
    offer_freed(session, system, resources=[current.resource])
    return current


def _passed(ctx: ServiceContext) -> ColumnElement[bool]:
    return and_(Wish.status == W.WAITING, Wish.starts_at <= ctx.now)


def any_passed(session: DbSession, ctx: ServiceContext) -> bool:
    """Whether some wish is still waiting though its period has begun (a read, for the tick)."""
    return session.scalar(select(Wish.id).where(_passed(ctx)).limit(1)) is not None


def expire_passed(session: DbSession, ctx: ServiceContext) -> int:
    """Wishes whose period has begun with nothing freed: they end quietly (the member saw the
    period pass). Returns how many."""
    done = session.execute(
        update(Wish)
        .where(_passed(ctx))
        .values(status=W.EXPIRED, settled_at=ctx.now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(done, "rowcount", 0) or 0)
