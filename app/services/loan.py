"""The physical loan at the host's desk: handing an item over, taking it back, the no-show.

What the host records (contents ticked, condition, note, photo) lives in a Handover row,
written with the booking's change of state (booking.move). Contents: the host ticks the
lines of `resource.contents_lines` that are there; a line left unticked is missing, which
makes the handover "incomplete" whatever condition was chosen, unless the host chose
"damaged" (the worse state stays); the missing lines are written into the note, so an
incomplete or damaged handover always says what is wrong.

A host who mis-tapped may undo their own pickup, return or no-show for 15 minutes: the
booking goes back to its previous state, the Handover is kept but marked undone, and the
undo is audited. The borrower's receipt email waits for the same 15 minutes, so an undone
handover sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from app.db import DbSession, lock
from app.models import (
    AuditEntry,
    Booking,
    BookingStatus,
    Condition,
    Handover,
    HandoverKind,
    OutboxMessage,
    OutboxStatus,
    Resource,
)
from app.services import audit, notify, uploads
from app.services.booking import can_see_details, flush_or_conflict, move, require_manager, require_transition
from app.services.context import ServiceContext
from app.services.errors import Conflict, Forbidden, NotFound, RuleViolation
from app.services.uploads import Upload

S = BookingStatus
PICKUP_EARLY = timedelta(days=1)  # a host may hand an item over the day before it is due
UNDO_WINDOW = timedelta(minutes=15)

# The state each undoable action leads to, and the one its undo goes back to.
_UNDO_TO = {"pickup": S.APPROVED, "return": S.PICKED_UP, "no_show": S.APPROVED}
_REACHED_BY = {S.PICKED_UP: "pickup", S.RETURNED: "return", S.NO_SHOW: "no_show"}


def _locked(session: DbSession, booking: Booking) -> Booking:
    """The booking re-read and locked: two hosts tapping at once see each other's result."""
    found = lock(session, Booking, booking.id)
    if found is None:
        raise NotFound(_("Cette réservation n'existe pas."))
    return found


def _physical(booking: Booking) -> None:
    if not booking.resource.category.needs_pickup:
        raise RuleViolation(_("Un compte en ligne ne se retire ni ne se rend au guichet."))


@dataclass(frozen=True)
class _Record:
    checked: list[str]
    missing: list[str]
    condition: Condition
    note: str


def _what_was_seen(
    booking: Booking, checked: list[str] | tuple[str, ...], condition: str | Condition, note: str | None
) -> _Record:
    """The ticked lines, checked against the item's contents, and the condition they imply."""
    lines = booking.resource.contents_lines
    ticked = {str(line).strip() for line in checked if str(line).strip()}
    unknown = sorted(ticked - set(lines))
    if unknown:
        raise RuleViolation(
            _("« %(line)s » ne fait pas partie du contenu de cet objet.", line=unknown[0]), field="checked"
        )
    try:
        state = Condition(condition)
    except ValueError:
        raise RuleViolation(_("Indiquez l'état du matériel."), field="condition") from None
    missing = [line for line in lines if line not in ticked]
    if missing and state is Condition.OK:
        # The host said "complete" but left lines unticked: ask rather than overrule either.
        raise RuleViolation(
            ngettext(
                "« Complet, en bon état » est choisi, mais %(num)d élément n'est pas coché : %(lines)s. "
                "Cochez-le s'il est là, ou choisissez « Incomplet ».",
                "« Complet, en bon état » est choisi, mais %(num)d éléments ne sont pas cochés : %(lines)s. "
                "Cochez-les s'ils sont là, ou choisissez « Incomplet ».",
                len(missing),
                lines=", ".join(missing),
            ),
            field="checked",
        )
    text = (note or "").strip()
    if state is not Condition.OK and not text and not missing:
        raise RuleViolation(_("Décrivez ce qui manque ou ce qui est abîmé."), field="note")
    parts = [_("Manque : %(lines)s.", lines=", ".join(missing))] if missing else []
    if text:
        parts.append(text)
    return _Record(
        checked=[line for line in lines if line in ticked], missing=missing, condition=state, note=" ".join(parts)
    )


def _cleaned_photo(photo: Upload | None, folder: Path | None, max_bytes: int) -> tuple[bytes, str] | None:
    if photo is None:
        return None
    if folder is None:
        raise ValueError("a photo needs the folder it goes to")
    return uploads.clean_image(photo, max_bytes=max_bytes)


def _write_handover(
    session: DbSession,
    ctx: ServiceContext,
    booking: Booking,
    kind: HandoverKind,
    record: _Record,
    photo: tuple[bytes, str] | None,
    folder: Path | None,
) -> Handover:
    handover = Handover(
        booking_id=booking.id,
        kind=kind,
        recorded_at=ctx.now,
        recorded_by_id=ctx.user.id,
        condition=record.condition,
        note=record.note,
    )
    handover.checked = record.checked
    written = uploads.write(photo[0], photo[1], folder) if photo is not None and folder is not None else None
    handover.photo = written
    session.add(handover)
    try:
        flush_or_conflict(session)
    except BaseException:
        if written is not None and folder is not None:
            uploads.remove(folder, written)
        raise
    return handover


def _receipt(session: DbSession, ctx: ServiceContext, handover: Handover, subject: Any, template: str) -> None:
    """The borrower's copy of what was recorded, held back until the undo window is over."""
    key = f"handover:{handover.id}:receipt"
    booking = handover.booking
    if not notify.email_user(
        session,
        ctx,
        key=key,
        user=booking.user,
        subject=subject,
        template=template,
        booking=booking,
        handover=handover,
        lines=booking.resource.contents_lines,
    ):
        return
    session.execute(update(OutboxMessage).where(OutboxMessage.key == key).values(next_attempt_at=ctx.now + UNDO_WINDOW))


# What differs between the two handovers: the action, the state reached, the receipt's template.
_HANDOVERS = {
    HandoverKind.PICKUP: ("pickup", S.PICKED_UP, "loan_picked_up"),
    HandoverKind.RETURN: ("return", S.RETURNED, "loan_returned"),
}


def _hand(
    session: DbSession,
    ctx: ServiceContext,
    booking: Booking,
    kind: HandoverKind,
    *,
    checked: list[str] | tuple[str, ...],
    condition: str | Condition,
    note: str | None,
    photo: Upload | None,
    folder: Path | None,
    photo_max_bytes: int,
) -> Handover:
    """One handover, either way: who may, when, what was seen, the state moved, the record, the receipt."""
    action, reached, template = _HANDOVERS[kind]
    actor = require_manager(ctx, booking.resource)
    booking = _locked(session, booking)
    _physical(booking)
    require_transition(booking, action)
    if kind is HandoverKind.PICKUP:
        if ctx.now < booking.starts_at - PICKUP_EARLY:
            raise RuleViolation(_("Trop tôt : le retrait se fait au plus tôt la veille du début."))
        if ctx.now >= booking.ends_at:
            raise RuleViolation(_("Cette réservation est terminée : marquez-la plutôt « non retirée »."))
    record = _what_was_seen(booking, checked, condition, note)
    cleaned = _cleaned_photo(photo, folder, photo_max_bytes)
    move(session, ctx, booking, action, reached, note=record.note or None)
    if kind is HandoverKind.PICKUP:
        booking.picked_up_at, booking.handed_over_by_id = ctx.now, actor.id
    else:
        booking.returned_at, booking.received_by_id = ctx.now, actor.id
        booking.condition, booking.condition_note = record.condition, record.note or None
    handover = _write_handover(session, ctx, booking, kind, record, cleaned, folder)
    _receipt(session, ctx, handover, _receipt_subject(kind, booking), template)
    return handover


def _receipt_subject(kind: HandoverKind, booking: Booking) -> object:
    if kind is HandoverKind.PICKUP:
        return _l("Vous avez retiré %(name)s", name=booking.resource.name)
    return _l("Retour enregistré : %(name)s", name=booking.resource.name)


def record_pickup(
    session: DbSession,
    ctx: ServiceContext,
    *,
    booking: Booking,
    checked: list[str] | tuple[str, ...] = (),
    condition: str | Condition = Condition.OK,
    note: str | None = None,
    photo: Upload | None = None,
    folder: Path | None = None,
    photo_max_bytes: int = uploads.MAX_PHOTO_BYTES,
) -> Handover:
    """The host hands the item over: from the day before the booking starts until it ends."""
    return _hand(
        session,
        ctx,
        booking,
        HandoverKind.PICKUP,
        checked=checked,
        condition=condition,
        note=note,
        photo=photo,
        folder=folder,
        photo_max_bytes=photo_max_bytes,
    )


def record_return(
    session: DbSession,
    ctx: ServiceContext,
    *,
    booking: Booking,
    checked: list[str] | tuple[str, ...] = (),
    condition: str | Condition = Condition.OK,
    note: str | None = None,
    photo: Upload | None = None,
    folder: Path | None = None,
    photo_max_bytes: int = uploads.MAX_PHOTO_BYTES,
) -> Handover:
    """The host takes the item back and says in what state; the booking keeps the condition too."""
    return _hand(
        session,
        ctx,
        booking,
        HandoverKind.RETURN,
        checked=checked,
        condition=condition,
        note=note,
        photo=photo,
        folder=folder,
        photo_max_bytes=photo_max_bytes,
    )


def mark_no_show(session: DbSession, ctx: ServiceContext, *, booking: Booking) -> Booking:
    """Only the resource's hosts (or an admin), once the booking has begun."""
    require_manager(ctx, booking.resource)
    booking = _locked(session, booking)
    _physical(booking)
    require_transition(booking, "no_show")
    if ctx.now < booking.starts_at:
        raise RuleViolation(_("Pas encore : la réservation n'a pas commencé."))
    move(session, ctx, booking, "no_show", S.NO_SHOW)
    flush_or_conflict(session)
    return booking


# Undo -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LastAction:
    """The desk gesture that put a booking in its present state: who, when, and its record."""

    booking: Booking
    action: str  # "pickup", "return" or "no_show"
    at: datetime
    by_id: int | None
    handover: Handover | None

    @property
    def until(self) -> datetime:
        return self.at + UNDO_WINDOW

    def undoable_by(self, ctx: ServiceContext) -> bool:
        return ctx.actor is not None and self.by_id == ctx.actor.id and ctx.now <= self.until

    @property
    def label(self) -> str:
        return {
            "pickup": _("Remis à %(name)s", name=self.booking.user.display_name),
            "return": _("Rendu par %(name)s", name=self.booking.user.display_name),
            "no_show": _("Non retiré par %(name)s", name=self.booking.user.display_name),
        }[self.action]


def _live_handover(session: DbSession, booking_id: int, kind: HandoverKind) -> Handover | None:
    return session.scalar(
        select(Handover).where(Handover.booking_id == booking_id, Handover.kind == kind, Handover.undone_at.is_(None))
    )


def last_action(session: DbSession, booking: Booking) -> LastAction | None:
    """What brought the booking to picked up, returned or no-show; None in any other state."""
    action = _REACHED_BY.get(booking.status)
    if action is None:
        return None
    if action == "no_show":
        entry = session.scalar(
            select(AuditEntry)
            .where(
                AuditEntry.subject_type == "booking",
                AuditEntry.subject_id == booking.id,
                AuditEntry.action == "no_show",
            )
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(1)
        )
        if entry is None:
            return None
        return LastAction(booking=booking, action=action, at=entry.at, by_id=entry.actor_id, handover=None)
    handover = _live_handover(session, booking.id, HandoverKind(action))
    if handover is None:  # recorded before handovers existed
        return None
    return LastAction(
        booking=booking, action=action, at=handover.recorded_at, by_id=handover.recorded_by_id, handover=handover
    )


def undo(session: DbSession, ctx: ServiceContext, *, booking: Booking) -> Booking:
    """Take back one's own pickup, return or no-show, within 15 minutes of recording it."""
    actor = require_manager(ctx, booking.resource)
    booking = _locked(session, booking)
    last = last_action(session, booking)
    if last is None:
        raise RuleViolation(_("Il n'y a rien à annuler sur cette réservation."))
    if last.by_id != actor.id:
        raise Forbidden(_("Seule la personne qui a enregistré ce geste peut l'annuler."))
    if ctx.now > last.until:
        raise RuleViolation(
            _("Trop tard pour annuler : un geste s'annule dans les %(n)d minutes.", n=UNDO_WINDOW.seconds // 60)
        )
    before = booking.status
    booking.status = _UNDO_TO[last.action]
    if last.action == "pickup":
        booking.picked_up_at = booking.handed_over_by_id = None
    elif last.action == "return":
        booking.returned_at = booking.received_by_id = None
        booking.condition = booking.condition_note = None
    if last.handover is not None:
        last.handover.undone_at, last.handover.undone_by_id = ctx.now, actor.id
        # Not sent yet (held back for this window): the borrower hears nothing of a mis-tap.
        session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.key == f"handover:{last.handover.id}:receipt",
                OutboxMessage.status == OutboxStatus.PENDING,
            )
        )
    booking.touch(ctx.now)
    audit.record(
        session,
        ctx,
        subject_type="booking",
        subject_id=booking.id,
        action="undo",
        from_state=before,
        to_state=booking.status,
    )
    try:
        session.flush()
    except IntegrityError as exc:
        # Back to a holding state: the slot may have been booked, or the item put out of
        # service, meanwhile; the database refuses the overlap.
        raise Conflict(
            _("Impossible d'annuler : l'objet a été réservé ou mis hors service entre-temps sur cette période.")
        ) from exc
    return booking


def recent_by(session: DbSession, ctx: ServiceContext, *, codes: list[str]) -> list[LastAction]:
    """The gestures the acting host may still undo, in these départements, newest first."""
    actor = ctx.user
    since = ctx.now - UNDO_WINDOW
    in_codes = Resource.departement_code.in_(codes)
    from_handovers = (
        select(Handover.booking_id)
        .join(Booking, Booking.id == Handover.booking_id)
        .join(Resource, Resource.id == Booking.resource_id)
        .where(
            Handover.recorded_by_id == actor.id, Handover.recorded_at >= since, Handover.undone_at.is_(None), in_codes
        )
    )
    from_no_shows = (
        select(AuditEntry.subject_id)
        .join(Booking, Booking.id == AuditEntry.subject_id)
        .join(Resource, Resource.id == Booking.resource_id)
        .where(
            AuditEntry.subject_type == "booking",
            AuditEntry.action == "no_show",
            AuditEntry.actor_id == actor.id,
            AuditEntry.at >= since,
            in_codes,
        )
    )
    ids = set(session.scalars(from_handovers)) | set(session.scalars(from_no_shows))
    found = []
    for booking in session.scalars(select(Booking).where(Booking.id.in_(ids))).unique():
        last = last_action(session, booking)
        if last is not None and last.undoable_by(ctx):
            found.append(last)
    return sorted(found, key=lambda last: last.at, reverse=True)


# Photos ---------------------------------------------------------------------------------------


def photo(session: DbSession, ctx: ServiceContext, *, name: str) -> Handover:
    """The handover a stored photo belongs to, for the holder, the item's hosts and admins."""
    if not uploads.STORED_NAME.match(name):
        raise NotFound(_("Cette photo n'existe pas."))
    handover = session.scalar(select(Handover).where(Handover.photo == name))
    if handover is None:
        raise NotFound(_("Cette photo n'existe pas."))
    if not can_see_details(ctx.user, handover.booking):
        raise Forbidden(_("Ce n'est pas votre réservation."))
    return handover


def handovers_of(session: DbSession, booking_ids: list[int]) -> dict[int, list[Handover]]:
    """The live handovers of these bookings, pickup before return (for pages that show them)."""
    found: dict[int, list[Handover]] = {}
    if not booking_ids:
        return found
    rows = session.scalars(
        select(Handover)
        .where(Handover.booking_id.in_(booking_ids), Handover.undone_at.is_(None))
        .order_by(Handover.recorded_at, Handover.id)
    ).unique()
    for handover in rows:
        found.setdefault(handover.booking_id, []).append(handover)
    return found
