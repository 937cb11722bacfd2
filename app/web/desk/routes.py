"""The département host's desk: approve, hand over, take back, chase; close the store for a while."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.i18n import app_zone, utcnow
from app.models import Departement, Resource
from app.services import blackouts, booking, desk
from app.services.errors import DomainError
from app.web.access import host_required
from app.web.admin.forms import ConfirmForm
from app.web.desk.forms import BlackoutForm, PickupForm, RejectForm, ReturnForm
from app.web.forms import apply_domain_error, read_local_datetime

bp = Blueprint("desk", __name__, url_prefix="/desk")


@bp.route("", defaults={"code": None})
@bp.route("/<dept:code>")
@host_required
def index(code: str | None):
    if code is not None and db.session.get(Departement, code) is None:
        abort(404)
    codes = desk.allowed_codes(current_user, code)
    if not codes:  # an admin who hosts nothing: choose a département
        return render_template("desk/choose.html", departements=db.session.scalars(select(Departement)).all())
    view = desk.overview(db.session, actor=current_user, codes=codes, now=utcnow(), zone=app_zone())
    return render_template(
        "desk/index.html",
        view=view,
        departements=[db.session.get(Departement, c) for c in codes],
        code=code,
        reject_form=RejectForm(),
        pickup_form=PickupForm(),
        return_form=ReturnForm(),
        confirm=ConfirmForm(),
        now=utcnow(),
    )


def _back(found):
    target = request.form.get("back")
    if target == "booking":
        return redirect(url_for("bookings.detail", booking_id=found.id))
    return redirect(
        url_for("desk.index", code=found.resource.departement_code if len(current_user.host_codes) > 1 else None)
    )


def _act(booking_id: int, form, action, done_message: str):
    found = booking.get(db.session, booking_id)
    if not booking.can_manage(current_user, found.resource):
        abort(403)
    if form.validate_on_submit():
        try:
            action(found, form)
        except DomainError as error:
            flash(error.message, "danger")
        else:
            flash(done_message, "success")
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(message, "danger")
    return _back(found)


@bp.route("/bookings/<int:booking_id>/approve", methods=["POST"])
@host_required
def approve(booking_id: int):
    return _act(
        booking_id,
        ConfirmForm(),
        lambda b, f: booking.approve(db.session, actor=current_user, booking=b, now=utcnow()),
        _("Demande validée."),
    )


@bp.route("/bookings/<int:booking_id>/reject", methods=["POST"])
@host_required
def reject(booking_id: int):
    return _act(
        booking_id,
        RejectForm(),
        lambda b, f: booking.reject(db.session, actor=current_user, booking=b, reason=f.reason.data, now=utcnow()),
        _("Demande refusée."),
    )


@bp.route("/bookings/<int:booking_id>/pickup", methods=["POST"])
@host_required
def pickup(booking_id: int):
    return _act(
        booking_id,
        PickupForm(),
        lambda b, f: booking.record_pickup(db.session, actor=current_user, booking=b, note=f.note.data, now=utcnow()),
        _("Retrait enregistré."),
    )


@bp.route("/bookings/<int:booking_id>/return", methods=["POST"])
@host_required
def give_back(booking_id: int):
    return _act(
        booking_id,
        ReturnForm(),
        lambda b, f: booking.record_return(
            db.session, actor=current_user, booking=b, condition=f.condition.data, note=f.note.data, now=utcnow()
        ),
        _("Retour enregistré."),
    )


@bp.route("/bookings/<int:booking_id>/no-show", methods=["POST"])
@host_required
def no_show(booking_id: int):
    return _act(
        booking_id,
        ConfirmForm(),
        lambda b, f: booking.mark_no_show(db.session, actor=current_user, booking=b, now=utcnow()),
        _("Réservation marquée « non retirée »."),
    )


@bp.route("/bookings/<int:booking_id>/cancel", methods=["POST"])
@host_required
def cancel(booking_id: int):
    return _act(
        booking_id,
        RejectForm(),
        lambda b, f: booking.cancel(db.session, actor=current_user, booking=b, reason=f.reason.data, now=utcnow()),
        _("Réservation annulée ; la personne est prévenue."),
    )


@bp.route("/<dept:code>/blackouts", methods=["GET", "POST"])
@host_required
def blackout_list(code: str):
    departement = db.session.get(Departement, code)
    if departement is None:
        abort(404)
    desk.allowed_codes(current_user, code)
    resources = db.session.scalars(
        select(Resource).where(Resource.departement_code == code, Resource.retired_at.is_(None)).order_by(Resource.name)
    ).all()
    form = BlackoutForm()
    form.resource.choices = [("", _("Tout le stock du département")), *[(str(r.id), r.name) for r in resources]]
    if form.validate_on_submit():
        starts_at, ends_at = read_local_datetime(form.starts_at), read_local_datetime(form.ends_at)
        if starts_at and ends_at:
            try:
                blackouts.create(
                    db.session,
                    actor=current_user,
                    departement_code=code,
                    resource=db.session.get(Resource, int(form.resource.data)) if form.resource.data else None,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    reason=form.reason.data,
                    now=utcnow(),
                )
            except DomainError as error:
                if not apply_domain_error(form, error):
                    flash(error.message, "danger")
            else:
                flash(_("Fermeture enregistrée."), "success")
                return redirect(url_for("desk.blackout_list", code=code))
    return render_template(
        "desk/blackouts.html",
        departement=departement,
        form=form,
        blackouts=blackouts.for_departement(db.session, code, utcnow()),
        confirm=ConfirmForm(),
    )


@bp.route("/blackouts/<int:blackout_id>/delete", methods=["POST"])
@host_required
def blackout_delete(blackout_id: int):
    code = request.form.get("departement", "")
    if ConfirmForm().validate_on_submit():
        blackouts.delete(db.session, actor=current_user, blackout_id=blackout_id, now=utcnow())
        flash(_("Fermeture supprimée."), "success")
    return redirect(url_for("desk.blackout_list", code=code) if code else url_for("desk.index"))
