"""What a member does with a personal token: their bookings, booking and cancelling, trainings.

Each write is one unit of work around the same service calls as the pages: a kit books every
line or nothing, a refusal changes nothing and answers with the service's own message.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app import entry
from app.db import unit_of_work
from app.extensions import db
from app.models import Enrolment
from app.services import booking, catalogue, kits, training
from app.services.errors import NotFound
from app.web.api import auth, present
from app.web.api.routing import Reply, operation
from app.web.api.schemas import (
    BookingIn,
    BookingOut,
    CancelIn,
    EmptyIn,
    EnrolmentOut,
    KitBookingOut,
    MyBookingPage,
    MyBookingsQuery,
)


@operation(
    "/v1/me/bookings",
    "GET",
    tag="bookings",
    token=True,
    summary=_l("Mes réservations"),
    description=_l("En retard, en cours, à venir, puis passées (de la plus récente à la plus ancienne)."),
    query=MyBookingsQuery,
    answers=(200, MyBookingPage),
)
def my_bookings(query: dict[str, Any]) -> dict[str, Any]:
    view = booking.of_member(db.session, entry.for_api(auth.user()))
    wanted = query.get("phase")
    live = [
        (phase, found)
        for phase, rows in (("late", view.late), ("current", view.current), ("upcoming", view.upcoming))
        if wanted in (None, phase)
        for found in rows
    ]
    with_past = wanted in (None, "past")
    past_total = 0
    if with_past:
        past_total = db.session.scalar(select(func.count()).select_from(view.past.subquery())) or 0
    per_page = int(query.get("per_page") or current_app.config["PER_PAGE"])
    offset = (query["page"] - 1) * per_page
    shown = live[offset : offset + per_page]
    if with_past and len(shown) < per_page:
        skip = max(0, offset - len(live))
        rows = db.session.scalars(view.past.offset(skip).limit(per_page - len(shown))).unique()
        shown += [("past", found) for found in rows]
    items = [present.booking(found, phase=phase) for phase, found in shown]
    return present.page(items, total=len(live) + past_total, page=query["page"], per_page=per_page)


@operation(
    "/v1/bookings",
    "POST",
    tag="bookings",
    token=True,
    summary=_l("Réserver une ressource ou un kit entier"),
    description=_l(
        "resource_id ou kit_id, start et end (RFC 3339, avec décalage), purpose. 201 avec la réservation "
        "(ou celle du kit) ; 409 si c'est déjà pris, avec le prochain créneau libre (next_free_slot) ; "
        "422 si une règle s'y oppose."
    ),
    body=BookingIn,
    answers=(201, (BookingOut, KitBookingOut)),
    errors=(404, 409),
)
def book(body: dict[str, Any]) -> Reply:
    ctx = entry.for_api(auth.user())
    with unit_of_work(db.session):
        if "kit_id" in body:
            kit = kits.get(db.session, body["kit_id"])
            made = kits.book(
                db.session, ctx, kit=kit, starts_at=body["start"], ends_at=body["end"], purpose=body["purpose"]
            )
            made_id = made.id
        else:
            resource = catalogue.get_resource(db.session, body["resource_id"])
            if resource.is_retired:
                raise NotFound(_("Cette ressource n'existe pas."))
            one = booking.create(
                db.session,
                ctx,
                resource=resource,
                starts_at=body["start"],
                ends_at=body["end"],
                purpose=body["purpose"],
            )
            made_id = one.id
    if "kit_id" in body:
        kit_booking = kits.get_booking(db.session, made_id)
        data = present.kit_booking(kit_booking, kits.bookings_of(db.session, kit_booking))
        return Reply(data, schema=KitBookingOut, headers={"Location": data["url"]})
    data = present.booking(booking.get(db.session, made_id))
    return Reply(data, schema=BookingOut, headers={"Location": data["url"]})


@operation(
    "/v1/bookings/<int:booking_id>/cancel",
    "POST",
    tag="bookings",
    token=True,
    summary=_l("Annuler une réservation"),
    description=_l("La sienne ; un hôte du département peut annuler celle d'un membre en disant pourquoi (reason)."),
    body=CancelIn,
    answers=(200, BookingOut),
    errors=(404, 409),
)
def cancel(booking_id: int, body: dict[str, Any]) -> dict[str, Any]:
    ctx = entry.for_api(auth.user())
    with unit_of_work(db.session):
        found = booking.visible(db.session, ctx, booking_id)
        booking.cancel(db.session, ctx, booking=found, reason=body.get("reason") or None)
    return present.booking(booking.get(db.session, booking_id))


@operation(
    "/v1/kit-bookings/<int:kit_booking_id>/cancel",
    "POST",
    tag="bookings",
    token=True,
    summary=_l("Annuler tout un kit"),
    body=CancelIn,
    answers=(200, KitBookingOut),
    errors=(404, 409),
)
def cancel_kit(kit_booking_id: int, body: dict[str, Any]) -> dict[str, Any]:
    ctx = entry.for_api(auth.user())
    with unit_of_work(db.session):
        found = kits.visible(db.session, ctx, kit_booking_id)
        kits.cancel(db.session, ctx, kit_booking=found, reason=body.get("reason") or None)
    found = kits.get_booking(db.session, kit_booking_id)
    return present.kit_booking(found, kits.bookings_of(db.session, found))


def _enrolment(enrolment: Enrolment | None) -> dict[str, Any]:
    if enrolment is None:  # removed meanwhile: nothing left to show
        raise NotFound(_("Vous n'êtes pas inscrit·e à cette session."))
    return {
        "training_id": enrolment.session_id,
        "status": enrolment.status.value,
        "status_label": str(enrolment.status.label),
        "position": training.waitlist_position(db.session, enrolment),
    }


@operation(
    "/v1/trainings/<int:training_id>/enrolments",
    "POST",
    tag="trainings",
    token=True,
    summary=_l("S'inscrire à une session"),
    description=_l("201 inscrit·e (registered), ou sur la liste d'attente (waitlisted) avec sa position."),
    body=EmptyIn,
    answers=(201, EnrolmentOut),
    errors=(404, 409),
)
def enrol(training_id: int, body: dict[str, Any]) -> dict[str, Any]:
    ctx = entry.for_api(auth.user())
    with unit_of_work(db.session):
        found = training.get(db.session, training_id)
        enrolment_id = training.sign_up(db.session, ctx, training=found).id
    return _enrolment(db.session.get(Enrolment, enrolment_id))


@operation(
    "/v1/trainings/<int:training_id>/enrolments/me",
    "DELETE",
    tag="trainings",
    token=True,
    summary=_l("Se désinscrire d'une session"),
    description=_l("La place libérée va au premier de la liste d'attente."),
    answers=(200, EnrolmentOut),
    errors=(404, 409),
)
def unenrol(training_id: int) -> dict[str, Any]:
    ctx = entry.for_api(auth.user())
    with unit_of_work(db.session):
        found = training.get(db.session, training_id)
        enrolment = training.enrolment_of(db.session, found.id, ctx.user)
        if enrolment is None:
            raise NotFound(_("Vous n'êtes pas inscrit·e à cette session."))
        enrolment_id = enrolment.id
        training.cancel_enrolment(db.session, ctx, enrolment=enrolment)
    return _enrolment(db.session.get(Enrolment, enrolment_id))
