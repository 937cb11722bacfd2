"""The département host's desk: approve, hand over, take back, chase; close the store for a while."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response

from app import entry
from app.extensions import db
from app.models import Booking, Departement, Resource
from app.services import blackouts, booking, desk
from app.services.context import ServiceContext
from app.web.access import host_required
from app.web.acting import service_call
from app.web.desk.forms import BlackoutForm, PickupForm, RejectForm, ReturnForm
from app.web.forms import ConfirmForm, read_local_datetime

bp = Blueprint("desk", __name__, url_prefix="/desk")


@bp.route("", defaults={"code": None})
@bp.route("/<dept:code>")
@host_required
def index(code: str | None):
    if code is not None and db.session.get(Departement, code) is None:
        abort(404)
    ctx = entry.for_request()
    codes = desk.allowed_codes(ctx.user, code)
    if not codes:  # an admin who hosts nothing: choose a département
        return render_template("desk/choose.html", departements=db.session.scalars(select(Departement)).all())
    view = desk.overview(db.session, ctx, codes=codes)
    return render_template(
        "desk/index.html",
        view=view,
        departements=[db.session.get(Departement, c) for c in codes],
        code=code,
        reject_form=RejectForm(),
        pickup_form=PickupForm(),
        return_form=ReturnForm(),
        confirm=ConfirmForm(),
        now=ctx.now,
    )


def _back(found: Booking) -> Response:
    target = request.form.get("back")
    if target == "booking":
        return redirect(url_for("bookings.detail", booking_id=found.id))
    return redirect(
        url_for("desk.index", code=found.resource.departement_code if len(current_user.host_codes) > 1 else None)
    )


def _act(booking_id: int, form: FlaskForm, action: Callable[[ServiceContext, Booking, Any], object], done: str):
    """One desk action on one booking: the service decides who may, inside one unit of work."""
    found = booking.get(db.session, booking_id)
    if form.validate_on_submit():
        with service_call() as call:
            action(call.ctx, found, form)
        if call.ok:
            flash(done, "success")
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(message, "danger")
    return _back(found)


@bp.route("/bookings/<int:booking_id>/approve", methods=["POST"])
@host_required
def approve(booking_id: int) -> Response:
    return _act(
        booking_id,
        ConfirmForm(),
        lambda ctx, b, f: booking.approve(db.session, ctx, booking=b),
        _("Demande validée."),
    )


@bp.route("/bookings/<int:booking_id>/reject", methods=["POST"])
@host_required
def reject(booking_id: int) -> Response:
    return _act(
        booking_id,
        RejectForm(),
        lambda ctx, b, f: booking.reject(db.session, ctx, booking=b, reason=f.reason.data),
        _("Demande refusée."),
    )


@bp.route("/bookings/<int:booking_id>/pickup", methods=["POST"])
@host_required
def pickup(booking_id: int) -> Response:
    return _act(
        booking_id,
        PickupForm(),
        lambda ctx, b, f: booking.record_pickup(db.session, ctx, booking=b, note=f.note.data),
        _("Retrait enregistré."),
    )


@bp.route("/bookings/<int:booking_id>/return", methods=["POST"])
@host_required
def give_back(booking_id: int) -> Response:
    return _act(
        booking_id,
        ReturnForm(),
        lambda ctx, b, f: booking.record_return(
            db.session, ctx, booking=b, condition=f.condition.data, note=f.note.data
        ),
        _("Retour enregistré."),
    )


@bp.route("/bookings/<int:booking_id>/no-show", methods=["POST"])
@host_required
def no_show(booking_id: int) -> Response:
    return _act(
        booking_id,
        ConfirmForm(),
        lambda ctx, b, f: booking.mark_no_show(db.session, ctx, booking=b),
        _("Réservation marquée « non retirée »."),
    )


@bp.route("/bookings/<int:booking_id>/cancel", methods=["POST"])
@host_required
def cancel(booking_id: int) -> Response:
    return _act(
        booking_id,
        RejectForm(),
        lambda ctx, b, f: booking.cancel(db.session, ctx, booking=b, reason=f.reason.data),
        _("Réservation annulée ; la personne est prévenue."),
    )


@bp.route("/<dept:code>/blackouts", methods=["GET", "POST"])
@host_required
def blackout_list(code: str):
    departement = db.session.get(Departement, code)
    if departement is None:
        abort(404)
    ctx = entry.for_request()
    desk.allowed_codes(ctx.user, code)
    resources = db.session.scalars(
        select(Resource).where(Resource.departement_code == code, Resource.retired_at.is_(None)).order_by(Resource.name)
    ).all()
    form = BlackoutForm()
    form.resource.choices = [("", _("Tout le stock du département")), *[(str(r.id), r.name) for r in resources]]
    if form.validate_on_submit():
        starts_at, ends_at = read_local_datetime(form.starts_at), read_local_datetime(form.ends_at)
        if starts_at and ends_at:
            with service_call(form, ctx=ctx) as call:
                blackouts.create(
                    db.session,
                    call.ctx,
                    departement_code=code,
                    resource=db.session.get(Resource, int(form.resource.data)) if form.resource.data else None,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    reason=form.reason.data or "",
                )
            if call.ok:
                flash(_("Fermeture enregistrée."), "success")
                return redirect(url_for("desk.blackout_list", code=code))
    return render_template(
        "desk/blackouts.html",
        departement=departement,
        form=form,
        blackouts=blackouts.for_departement(db.session, code, ctx.now),
        confirm=ConfirmForm(),
    )


@bp.route("/blackouts/<int:blackout_id>/delete", methods=["POST"])
@host_required
def blackout_delete(blackout_id: int) -> Response:
    code = request.form.get("departement", "")
    if ConfirmForm().validate_on_submit():
        with service_call() as call:
            code = blackouts.delete(db.session, call.ctx, blackout_id=blackout_id)
        if call.ok:
            flash(_("Fermeture supprimée."), "success")
    return redirect(url_for("desk.blackout_list", code=code) if code else url_for("desk.index"))
