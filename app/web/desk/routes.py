"""The département host's desk: approve, hand over, take back, chase; close the store for a while."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from app import entry
from app.extensions import db
from app.models import Booking, Condition, Departement, Handover, Resource
from app.services import blackouts, booking, desk, loan, uploads
from app.services import pickup as pickup_points
from app.services.context import ServiceContext
from app.web.access import host_required
from app.web.acting import service_call
from app.web.desk.forms import BlackoutForm, HandoverForm, PickupForm, RejectForm, ReturnForm
from app.web.forms import ConfirmForm, read_local_period

bp = Blueprint("desk", __name__, url_prefix="/desk")

# Where a return marked incomplete or damaged leads: the proposal to put the item out of
# service, once the items blueprint has it; until then, back to the desk.
PROPOSE_OUT_OF_SERVICE = "items.propose_out_of_service"


def photo_folder() -> Path:
    """Handover photos: UPLOAD_FOLDER when set, else instance/uploads."""
    return Path(current_app.config["UPLOAD_FOLDER"] or Path(current_app.instance_path) / "uploads")


def photo_limit() -> int:
    return int(current_app.config["PHOTO_MAX_BYTES"])


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
        undo_minutes=loan.UNDO_WINDOW.seconds // 60,
        upcoming_days=desk.UPCOMING_DAYS,
        pickup_early=loan.PICKUP_EARLY,
        stores={c: pickup_points.store_of(db.session, c) for c in codes},
    )


def _back(found: Booking) -> Response:
    target = request.form.get("back")
    if target == "booking":
        return redirect(url_for("bookings.detail", booking_id=found.id))
    return redirect(
        url_for("desk.index", code=found.resource.departement_code if len(current_user.host_codes) > 1 else None)
    )


def _flash_form_errors(form: FlaskForm) -> None:
    for errors in form.errors.values():
        for message in errors:
            flash(message, "danger")


def _act(booking_id: int, form: FlaskForm, action: Callable[[ServiceContext, Booking, Any], object], done: str):
    """One desk action on one booking: the service decides who may, inside one unit of work."""
    found = booking.get(db.session, booking_id)
    if form.validate_on_submit():
        with service_call() as call:
            action(call.ctx, found, form)
        if call.ok:
            flash(done, "success")
    else:
        _flash_form_errors(form)
    return _back(found)


def _upload(form: HandoverForm) -> uploads.Upload | None:
    """The photo as sent, read one byte past the cap so that the service sees it is too big."""
    sent = form.photo.data
    if not isinstance(sent, FileStorage) or not sent.filename:
        return None
    return uploads.Upload(filename=sent.filename, data=sent.stream.read(photo_limit() + 1))


def _handover(booking_id: int, form: HandoverForm, record: Callable[..., Handover]) -> tuple[Booking, Handover | None]:
    found = booking.get(db.session, booking_id)
    if not form.validate_on_submit():
        _flash_form_errors(form)
        return found, None
    photo = _upload(form)
    with service_call() as call:
        made = record(
            db.session,
            call.ctx,
            booking=found,
            checked=form.checked.data or [],
            condition=form.condition.data or "ok",
            note=form.note.data,
            photo=photo,
            folder=photo_folder(),
            photo_max_bytes=photo_limit(),
        )
    return found, made if call.ok else None


def _said(handover: Handover, done: str) -> str:
    if handover.condition is Condition.OK:
        return done
    return _(
        "%(done)s État : %(condition)s — %(note)s", done=done, condition=handover.condition.label, note=handover.note
    )


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
    found, made = _handover(booking_id, PickupForm(), loan.record_pickup)
    if made is not None:
        flash(_said(made, _("Remis à %(name)s.", name=found.user.display_name)), "success")
    return _back(found)


@bp.route("/bookings/<int:booking_id>/return", methods=["POST"])
@host_required
def give_back(booking_id: int) -> Response:
    found, made = _handover(booking_id, ReturnForm(), loan.record_return)
    if made is None:
        return _back(found)
    flash(_said(made, _("Rendu par %(name)s.", name=found.user.display_name)), "success")
    if made.condition is not Condition.OK and PROPOSE_OUT_OF_SERVICE in current_app.view_functions:
        return redirect(url_for(PROPOSE_OUT_OF_SERVICE, handover_id=made.id))
    return _back(found)


@bp.route("/bookings/<int:booking_id>/no-show", methods=["POST"])
@host_required
def no_show(booking_id: int) -> Response:
    return _act(
        booking_id,
        ConfirmForm(),
        lambda ctx, b, f: loan.mark_no_show(db.session, ctx, booking=b),
        _("Réservation marquée « non retirée »."),
    )


@bp.route("/bookings/<int:booking_id>/undo", methods=["POST"])
@host_required
def undo(booking_id: int) -> Response:
    found = booking.get(db.session, booking_id)
    if ConfirmForm().validate_on_submit():
        with service_call() as call:
            loan.undo(db.session, call.ctx, booking=found)
        if call.ok:
            flash(_("Annulé : la réservation est de nouveau « %(status)s ».", status=found.status.label), "success")
    return _back(found)


@bp.route("/photos/<name>")
@login_required
def photo(name: str) -> Response:
    """A handover's photo, for the booking's holder, the item's hosts and admins only."""
    found = loan.photo(db.session, entry.for_request(), name=name)
    response = send_from_directory(photo_folder(), found.photo or "", max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response


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
    clashing: list[Booking] = []
    if form.validate_on_submit() and (period := read_local_period(form)):
        starts_at, ends_at = period
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
        # The refusal names the bookings in the way: the page links each one.
        clashing = getattr(call.error, "bookings", [])
    return render_template(
        "desk/blackouts.html",
        clashing=clashing,
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
