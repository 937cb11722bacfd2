"""The host's desk through the API: what is due in their départements, and the desk's gestures.

The services decide who may: a host acts on what is stored in their own départements, an
admin anywhere; anyone else is refused (403) as on the pages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import entry
from app.db import unit_of_work
from app.extensions import db
from app.models import Booking
from app.services import booking, desk, loan
from app.services.context import ServiceContext
from app.web.api import auth, present
from app.web.api.errors import ApiError
from app.web.api.routing import operation
from app.web.api.schemas import DeskBookingOut, DeskOut, DeskQuery, EmptyIn, HandoverIn, RejectIn


@operation(
    "/v1/desk",
    "GET",
    tag="desk",
    token=True,
    summary=_l("Le guichet : demandes, retraits, retours, retards"),
    description=_l("Pour les hôtes (leurs départements) et les administrateurs (un département à choisir)."),
    query=DeskQuery,
    answers=(200, DeskOut),
)
def desk_view(query: dict[str, Any]) -> dict[str, Any]:
    ctx = entry.for_api(auth.user())
    codes = desk.allowed_codes(ctx.user, query.get("departement"))
    if not codes:
        message = _("Choisissez un département.")
        raise ApiError(422, message, code="invalid", fields={"departement": [message]})
    view = desk.overview(db.session, ctx, codes=codes)

    def shown(rows: list[Booking]) -> list[dict[str, Any]]:
        return [present.booking(b, member=True) for b in rows]

    return {
        "departements": view.codes,
        "requests": shown(view.requests),
        "pickups_today": shown(view.pickups_today),
        "pickups_upcoming": shown(view.pickups_upcoming),
        "returns_today": shown(view.returns_today),
        "out_now": shown(view.out_now),
        "late": shown(view.late),
        "missed": shown(view.missed),
    }


def _act(booking_id: int, action: Callable[[ServiceContext, Booking], object]) -> dict[str, Any]:
    ctx = entry.for_api(auth.user())
    with unit_of_work(db.session):
        action(ctx, booking.get(db.session, booking_id))
    return present.booking(booking.get(db.session, booking_id), member=True)


def _desk_operation(action: str, summary: Any, body: Any = EmptyIn):
    return operation(
        f"/v1/desk/bookings/<int:booking_id>/{action}",
        "POST",
        tag="desk",
        token=True,
        summary=summary,
        body=body,
        answers=(200, DeskBookingOut),
        errors=(404, 409),
    )


@_desk_operation("approve", _l("Valider une demande"))
def approve(booking_id: int, body: dict[str, Any]) -> dict[str, Any]:
    return _act(booking_id, lambda ctx, found: booking.approve(db.session, ctx, booking=found))


@_desk_operation("reject", _l("Refuser une demande, en disant pourquoi"), RejectIn)
def reject(booking_id: int, body: dict[str, Any]) -> dict[str, Any]:
    return _act(booking_id, lambda ctx, found: booking.reject(db.session, ctx, booking=found, reason=body["reason"]))


def _handover(record: Callable[..., object], body: dict[str, Any]) -> Callable[[ServiceContext, Booking], object]:
    return lambda ctx, found: record(
        db.session, ctx, booking=found, checked=body["checked"], condition=body["condition"], note=body["note"]
    )


@_desk_operation("pickup", _l("Remettre l'objet (contenu vérifié, état, note)"), HandoverIn)
def hand_over(booking_id: int, body: dict[str, Any]) -> dict[str, Any]:
    return _act(booking_id, _handover(loan.record_pickup, body))


@_desk_operation("return", _l("Reprendre l'objet (contenu vérifié, état, note)"), HandoverIn)
def take_back(booking_id: int, body: dict[str, Any]) -> dict[str, Any]:
    return _act(booking_id, _handover(loan.record_return, body))


@_desk_operation("no-show", _l("Marquer « non retirée »"))
def no_show(booking_id: int, body: dict[str, Any]) -> dict[str, Any]:
    return _act(booking_id, lambda ctx, found: loan.mark_no_show(db.session, ctx, booking=found))


@_desk_operation("undo", _l("Annuler son dernier geste (dans les 15 minutes)"))
def undo(booking_id: int, body: dict[str, Any]) -> dict[str, Any]:
    return _act(booking_id, lambda ctx, found: loan.undo(db.session, ctx, booking=found))
