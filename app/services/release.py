"""Account slots that nobody uses, and members who do not come.

An online account booked but never opened (its login never shown) is released some minutes
after its start, as its category says, so that someone else may use it; the holder is told.
The minute tick (app.jobs) finds what is due, then releases each booking in a unit of work of
its own. A released booking is CANCELLED, audited as "release": it does not count as a
no-show (nobody was expected at a desk; the member simply did not open the account).

A member with too many no-shows in a category within its window has their next bookings
there requested from the host, even where the category needs no approval (`booking.create`
asks `needs_approval_for`).
"""

from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.db import DbSession, lock
from app.models import AuditEntry, Booking, BookingStatus, Category, Resource, User
from app.services import notify
from app.services.context import ServiceContext

S = BookingStatus
RELEASE_ACTION = "release"


def is_due(session: DbSession, ctx: ServiceContext, booking: Booking) -> bool:
    """Approved, an account whose category releases, started at least that long ago, not
    ended, and its login never shown (to anyone: an admin's reveal counts as use too)."""
    category = booking.resource.category
    if booking.status is not S.APPROVED or category.needs_pickup or category.release_after_minutes is None:
        return False
    if not booking.starts_at + timedelta(minutes=category.release_after_minutes) <= ctx.now < booking.ends_at:
        return False
    shown = session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.subject_type == "booking",
            AuditEntry.subject_id == booking.id,
            AuditEntry.action == "reveal-credentials",
        )
    )
    return not shown


def due(session: DbSession, ctx: ServiceContext) -> list[Booking]:
    """The account bookings to release at ctx.now, oldest start first."""
    revealed = (
        select(AuditEntry.id)
        .where(
            AuditEntry.subject_type == "booking",
            AuditEntry.subject_id == Booking.id,
            AuditEntry.action == "reveal-credentials",
        )
        .exists()
    )
    # The SQL narrows to started, unended, approved accounts never revealed; the minutes are
    # per category, compared in Python (portable date arithmetic is not worth it for a handful).
    candidates = session.scalars(
        select(Booking)
        .join(Resource, Resource.id == Booking.resource_id)
        .join(Category, Category.id == Resource.category_id)
        .where(
            Booking.status == S.APPROVED,
            Category.needs_pickup.is_(False),
            Category.release_after_minutes.is_not(None),
            Booking.starts_at <= ctx.now,
            Booking.ends_at > ctx.now,
            ~revealed,
        )
        .order_by(Booking.starts_at, Booking.id)
    ).unique()
    return [b for b in candidates if is_due(session, ctx, b)]


def release(session: DbSession, ctx: ServiceContext, *, booking: Booking) -> Booking | None:
    """Release one booking found by `due`; None when it is no longer due (revealed or
    released meanwhile): a second tick releases nothing more.

    The transition is checked as a cancellation (the model's "cancel" entry), but recorded as
    what happened, "release", so the history does not tell of a cancellation nobody made.
    Called by the system (ctx.actor None): no permission applies.
    """
    from app.services import booking as bookings  # booking.create asks this module too

    current = lock(session, Booking, booking.id)
    if current is None or not is_due(session, ctx, current):
        return None
    minutes = current.resource.category.release_after_minutes
    reason = _(
        "Libérée %(n)d minutes après le début : les identifiants n'avaient pas été affichés.",
        n=minutes or 0,
    )
    bookings.move(session, ctx, current, "cancel", S.CANCELLED, note=reason, recorded_as=RELEASE_ACTION)
    current.decision_reason = reason
    bookings.flush_or_conflict(session)
    notify.email_user(
        session,
        ctx,
        key=f"booking:{current.id}:released",
        user=current.user,
        subject=_l("Votre réservation de compte est libérée"),
        template="account_released",
        booking=current,
        minutes=minutes,
    )
    from app.services import waitlist  # it builds on the booking services, which read this module

    waitlist.offer_freed(session, ctx, resources=[current.resource])
    return current


# The no-show rule --------------------------------------------------------------------------------


def no_shows(session: DbSession, ctx: ServiceContext, *, user: User, category: Category) -> int:
    """The member's bookings of the category marked « non retirée » that started within the
    category's window before ctx.now. Released account bookings are cancelled, not no-shows."""
    since = ctx.now - timedelta(days=category.no_show_window_days)
    count = session.scalar(
        select(func.count())
        .select_from(Booking)
        .join(Resource, Resource.id == Booking.resource_id)
        .where(
            Booking.user_id == user.id,
            Resource.category_id == category.id,
            Booking.status == S.NO_SHOW,
            Booking.starts_at >= since,
            Booking.starts_at <= ctx.now,
        )
    )
    return count or 0


def needs_approval_for(session: DbSession, ctx: ServiceContext, *, user: User, category: Category) -> bool:
    """True when the category's no-show rule puts this member's bookings before the host."""
    if not category.no_show_limit:
        return False
    return no_shows(session, ctx, user=user, category=category) >= category.no_show_limit
