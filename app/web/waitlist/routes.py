"""The equipment waitlist: leave a wish when a slot is refused, withdraw it, answer a hold."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from app.extensions import db
from app.models import BookingStatus
from app.services import booking, catalogue, waitlist
from app.web.acting import service_call
from app.web.forms import ConfirmForm, read_local_period
from app.web.waitlist.forms import WishForm

bp = Blueprint("waitlist", __name__, url_prefix="/waitlist")


@bp.route("/new", methods=["POST"])
@login_required
def new() -> Response:
    form = WishForm()
    if not form.validate_on_submit() or not (period := read_local_period(form)):
        flash(_("Cette demande d'attente est incomplète : refaites la réservation, puis réessayez."), "danger")
        return redirect(url_for("bookings.mine"))
    back = url_for("catalogue.index")
    with service_call() as call:
        resource = category = None
        if form.resource.data:
            resource = catalogue.get_resource(db.session, int(form.resource.data))
            back = url_for("bookings.new", resource=resource.id)
        elif form.category.data:
            category = catalogue.get_category(db.session, int(form.category.data))
            back = url_for("bookings.kit", category=category.id)
        else:
            abort(400)
        waitlist.wish(
            db.session,
            call.ctx,
            resource=resource,
            category=category,
            departement_code=form.departement.data or None,
            starts_at=period[0],
            ends_at=period[1],
            purpose=form.purpose.data or "",
        )
    if not call.ok:
        return redirect(back)
    flash(
        _("C'est noté : si cela se libère, le créneau vous sera réservé 24 heures et un email vous le dira."),
        "success",
    )
    return redirect(url_for("bookings.mine", _anchor="attente"))


@bp.route("/<int:wish_id>/withdraw", methods=["POST"])
@login_required
def withdraw(wish_id: int) -> Response:
    if ConfirmForm().validate_on_submit():
        with service_call() as call:
            waitlist.withdraw(db.session, call.ctx, wish=waitlist.get(db.session, wish_id))
        if call.ok:
            flash(_("Vous n'êtes plus sur la liste d'attente pour ce créneau."), "success")
    return redirect(url_for("bookings.mine", _anchor="attente"))


@bp.route("/hold/<int:booking_id>/<any(confirm, decline):answer>", methods=["POST"])
@login_required
def hold(booking_id: int, answer: str) -> Response:
    if ConfirmForm().validate_on_submit():
        with service_call() as call:
            found = booking.visible(db.session, call.ctx, booking_id)
            if answer == "confirm":
                taken = waitlist.confirm(db.session, call.ctx, booking=found)
            else:
                waitlist.decline(db.session, call.ctx, booking=found)
        if call.ok and answer == "confirm":
            flash(
                _("Demande envoyée : l'hôte du département va la valider.")
                if taken.status is BookingStatus.REQUESTED
                else _("Réservation confirmée."),
                "success",
            )
        elif call.ok:
            flash(_("Créneau refusé : il passe à la personne suivante sur la liste d'attente."), "success")
    return redirect(url_for("bookings.detail", booking_id=booking_id))
