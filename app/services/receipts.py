"""The borrower's side of a handover: confirming what they received or brought back, and the loan form.

The host records a handover at the desk (app/services/loan.py); the booking's holder then
confirms it on their own phone, so that one record holds both sides with their times.
Only the holder confirms: a host confirming for the borrower would defeat the point.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from app.db import DbSession, lock
from app.models import Booking, Handover, HandoverKind, PickupPoint, Resource, User
from app.services import audit, booking, pickup
from app.services.context import ServiceContext
from app.services.errors import Conflict, Forbidden, NotFound

# The audit actions written here, read back as sentences by app/services/history.py.
CONFIRM_ACTIONS = {HandoverKind.PICKUP: "confirm-pickup", HandoverKind.RETURN: "confirm-return"}


@dataclass(frozen=True)
class Receipt:
    """A booking's handovers: the live pickup and return records, and those undone by the host."""

    booking: Booking
    pickup: Handover | None
    back: Handover | None
    undone: list[Handover]

    @property
    def live(self) -> list[Handover]:
        return [h for h in (self.pickup, self.back) if h is not None]

    @property
    def contents(self) -> list[ContentsLine]:
        """The item's contents with what the host ticked when it left and when it came back."""
        return _contents(self.booking.resource, self)

    @property
    def pending(self) -> Handover | None:
        """The record the holder has still to confirm, the most recent first."""
        return next((h for h in reversed(self.live) if h.confirmed_at is None), None)


@dataclass(frozen=True)
class ContentsLine:
    """One line of the item's contents, and whether the host ticked it when it left and came back."""

    label: str
    out: bool | None  # None: not recorded yet (the box stays empty, to tick by hand)
    back: bool | None


@dataclass(frozen=True)
class LoanForm:
    """What the printable loan form ("bon de prêt") shows."""

    receipt: Receipt
    holder: User
    resource: Resource
    point: PickupPoint | None
    hours: list[str]

    @property
    def booking(self) -> Booking:
        return self.receipt.booking

    @property
    def contents(self) -> list[ContentsLine]:
        return self.receipt.contents


def is_holder(actor: User | None, handover: Handover) -> bool:
    return actor is not None and getattr(actor, "id", None) == handover.booking.user_id


def can_confirm(actor: User | None, handover: Handover) -> bool:
    """For the pages: whether this person sees the confirm button for this record."""
    return is_holder(actor, handover) and handover.undone_at is None and handover.confirmed_at is None


def of_booking(session: DbSession, booking_id: int) -> Receipt:
    """The handovers of a booking, for a page already allowed to show the booking."""
    found = booking.get(session, booking_id)
    rows = list(
        session.scalars(
            select(Handover).where(Handover.booking_id == booking_id).order_by(Handover.recorded_at, Handover.id)
        ).unique()
    )
    live = {h.kind: h for h in rows if h.undone_at is None}
    return Receipt(
        booking=found,
        pickup=live.get(HandoverKind.PICKUP),
        back=live.get(HandoverKind.RETURN),
        undone=[h for h in rows if h.undone_at is not None],
    )


def receipt(session: DbSession, ctx: ServiceContext, *, booking_id: int) -> Receipt:
    """The receipt page: for the booking's holder, the resource's hosts and admins.

    An online account is never handed over: there is nothing to confirm."""
    found = booking.visible(session, ctx, booking_id)
    if not found.resource.category.needs_pickup:
        raise NotFound(_("Un compte en ligne ne se remet pas : il n'y a rien à confirmer."))
    return of_booking(session, booking_id)


def get_handover(session: DbSession, handover_id: int) -> Handover:
    found = session.get(Handover, handover_id)
    if found is None:
        raise NotFound(_("Cette remise n'existe pas."))
    return found


def confirm(session: DbSession, ctx: ServiceContext, *, handover: Handover) -> Handover:
    """The holder confirms they received (pickup) or brought back (return) the item as recorded.

    The holder only, not even a host or an admin. Confirming again changes nothing (a second
    tap on a phone is not an error); a record the host has undone cannot be confirmed.
    """
    actor = ctx.user
    locked = lock(session, Handover, handover.id)
    if locked is None:
        raise NotFound(_("Cette remise n'existe pas."))
    if not is_holder(actor, locked):
        raise Forbidden(_("Seule la personne qui a réservé confirme la remise et le retour."))
    if locked.undone_at is not None:
        raise Conflict(_("L'hôte a annulé cette saisie : il n'y a plus rien à confirmer."))
    if locked.confirmed_at is not None:
        return locked
    locked.confirmed_at, locked.confirmed_by_id = ctx.now, actor.id
    audit.record(
        session,
        ctx,
        subject_type="booking",
        subject_id=locked.booking_id,
        action=CONFIRM_ACTIONS[locked.kind],
    )
    session.flush()
    return locked


def loan_form(session: DbSession, ctx: ServiceContext, *, booking_id: int) -> LoanForm:
    """The printable loan form: for the booking's holder, the resource's hosts and admins."""
    found = booking.visible(session, ctx, booking_id)
    handovers = of_booking(session, found.id)
    resource = found.resource
    point = resource.pickup_point
    return LoanForm(
        receipt=handovers,
        holder=found.user,
        resource=resource,
        point=point,
        hours=pickup.describe(point) if point is not None else [],
    )


def _contents(resource: Resource, handovers: Receipt) -> list[ContentsLine]:
    """The item's contents today, plus any line ticked then that has since left the list."""
    out = handovers.pickup.checked if handovers.pickup is not None else None
    back = handovers.back.checked if handovers.back is not None else None
    labels = list(resource.contents_lines)
    for recorded in (out or [], back or []):
        labels += [line for line in recorded if line not in labels]
    return [
        ContentsLine(
            label=label,
            out=None if out is None else label in out,
            back=None if back is None else label in back,
        )
        for label in labels
    ]
