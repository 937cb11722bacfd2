"""The borrower's side of a loan: confirming a handover on their own phone, the printable loan form."""

from __future__ import annotations

from typing import Any

import segno
from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required
from markupsafe import Markup
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from app import entry
from app.extensions import db
from app.models import Booking, Handover, HandoverKind, User
from app.services import receipts
from app.web.acting import service_call
from app.web.loans.forms import ReceiptForm

bp = Blueprint("loans", __name__, url_prefix="/loans")


@bp.route("/<int:booking_id>")
@login_required
def receipt(booking_id: int) -> str:
    """The holder confirms here; a host shows the QR code of this very page to the holder's phone."""
    ctx = entry.for_request()
    found = receipts.receipt(db.session, ctx, booking_id=booking_id)
    address = receipt_address(booking_id)
    holder = ctx.actor is not None and ctx.actor.id == found.booking.user_id
    return render_template(
        "loans/receipt.html",
        receipt=found,
        booking=found.booking,
        is_holder=holder,
        address=address,
        qr=None if holder else qr_svg(address, title=_("Adresse de cette page")),
    )


@bp.route("/<int:booking_id>/confirm", methods=["POST"])
@login_required
def confirm(booking_id: int) -> Response:
    form = ReceiptForm()
    if form.validate_on_submit():
        handover = receipts.get_handover(db.session, int(form.handover.data or 0))
        if handover.booking_id != booking_id:
            abort(404)
        with service_call() as call:
            done = receipts.confirm(db.session, call.ctx, handover=handover)
        if call.ok:
            if done.kind == HandoverKind.PICKUP:
                flash(_("Merci : vous avez confirmé avoir reçu l'objet."), "success")
            else:
                flash(_("Merci : vous avez confirmé avoir rendu l'objet."), "success")
    else:
        abort(400)
    if form.back.data == "booking":
        return redirect(url_for("bookings.detail", booking_id=booking_id))
    return redirect(url_for("loans.receipt", booking_id=booking_id))


@bp.route("/<int:booking_id>/form")
@login_required
def form(booking_id: int) -> str:
    """The printable loan form (« bon de prêt »), one A4 page."""
    sheet = receipts.loan_form(db.session, entry.for_request(), booking_id=booking_id)
    return render_template("loans/form.html", sheet=sheet, booking=sheet.booking)


def receipt_address(booking_id: int) -> str:
    """The receipt page's full address, as a phone's camera opens it."""
    return url_for("loans.receipt", booking_id=booking_id, _external=True)


def qr_svg(data: str, *, title: str = "") -> Markup:
    """A QR code drawn on the server, inline SVG: nothing to fetch, no script, scales with CSS."""
    code = segno.make_qr(data, error="m")
    svg = code.svg_inline(scale=1, border=4, omitsize=True, svgclass="qr-code", lineclass=None, title=title or None)
    # segno writes the whole markup and escapes the title; the address is drawn as modules, not text.
    return Markup(svg)  # nosec B704


# For loans/_receipt.html, which the booking page includes with `booking` and `current_user` only.


@bp.app_template_global("loan_receipt")
def loan_receipt(booking: Booking) -> receipts.Receipt:
    return receipts.of_booking(db.session, booking.id)


@bp.app_template_global("can_confirm_receipt")
def can_confirm_receipt(actor: User | None, handover: Handover) -> bool:
    return receipts.can_confirm(actor, handover)


@bp.app_template_global("handover_photo_url")
def handover_photo_url(handover: Handover) -> str | None:
    """The link to a handover's photo, when the desk serves photos (its endpoint `desk.photo`)."""
    if not handover.photo or "desk.photo" not in current_app.view_functions:
        return None
    known: dict[str, str | int] = {
        "name": handover.photo,
        "filename": handover.photo,
        "photo": handover.photo,
        "handover_id": handover.id,
        "booking_id": handover.booking_id,
    }
    for rule in current_app.url_map.iter_rules("desk.photo"):
        if rule.arguments <= known.keys():
            try:
                values: dict[str, Any] = {name: known[name] for name in rule.arguments}
                return url_for("desk.photo", **values)
            except BuildError:
                continue
    return None
