"""Pickup points: their hosts keep the address, access notes, contact and opening hours true."""

from __future__ import annotations

from datetime import time

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from app import entry
from app.extensions import db
from app.i18n import weekday_name
from app.services import pickup
from app.web.acting import service_call
from app.web.forms import ConfirmForm
from app.web.points.forms import ClosingDayForm, HoursForm, NewPointForm, PointForm

bp = Blueprint("points", __name__, url_prefix="/points")


def _editable(point_id: int):
    point = pickup.get(db.session, point_id)
    if not pickup.can_edit(entry.for_request().actor, point):
        abort(403)
    return point


def _spans(form: HoursForm) -> list[pickup.Span] | None:
    spans: list[pickup.Span] = []
    for entry_ in form.days.entries:
        # The weekday is the entry's index in its name ("days-2"), whatever was left out.
        weekday = int(entry_.name.rsplit("-", 1)[1])
        day = entry_.form
        for opens, closes in ((day.opens_1, day.closes_1), (day.opens_2, day.closes_2)):
            if bool(opens.data) != bool(closes.data):
                closes.errors = [*closes.errors, _("Indiquez l'ouverture et la fermeture.")]
                return None
            if opens.data and closes.data:
                spans.append(pickup.Span(weekday, opens.data, closes.data))
    return spans


def _hours_form(point) -> HoursForm:
    form = HoursForm()
    if not form.is_submitted():
        for weekday, entry_ in enumerate(form.days.entries):
            spans: list[tuple[time, time]] = sorted(
                (h.opens_at, h.closes_at) for h in point.hours if h.weekday == weekday
            )
            day = entry_.form
            if spans:
                day.opens_1.data, day.closes_1.data = spans[0]
            if len(spans) > 1:
                day.opens_2.data, day.closes_2.data = spans[1]
    return form


@bp.route("/<int:point_id>/edit", methods=["GET", "POST"])
@login_required
def edit(point_id: int):
    point = _editable(point_id)
    form = PointForm(obj=point, prefix="point")
    hours = _hours_form(point)
    closing = ClosingDayForm(prefix="closing")
    if form.submit.data and form.validate_on_submit():
        with service_call(form) as call:
            pickup.save(
                db.session,
                call.ctx,
                point=point,
                name=form.name.data or "",
                address=form.address.data or "",
                access_notes=form.access_notes.data or "",
                phone=form.phone.data or "",
                email=form.email.data or "",
            )
        if call.ok:
            flash(_("Lieu de retrait enregistré."), "success")
            return redirect(url_for("points.edit", point_id=point.id))
    elif hours.submit.data and hours.validate_on_submit() and (spans := _spans(hours)) is not None:
        with service_call(hours) as call:
            pickup.set_hours(db.session, call.ctx, point=point, spans=spans)
        if call.ok:
            flash(_("Horaires enregistrés."), "success")
            return redirect(url_for("points.edit", point_id=point.id))
    elif closing.submit.data and closing.validate_on_submit() and closing.day.data is not None:
        with service_call(closing) as call:
            pickup.add_closing_day(
                db.session, call.ctx, point=point, day=closing.day.data, reason=closing.reason.data or ""
            )
        if call.ok:
            flash(_("Jour de fermeture ajouté."), "success")
            return redirect(url_for("points.edit", point_id=point.id))
    return render_template(
        "points/edit.html",
        point=point,
        form=form,
        hours=hours,
        closing=closing,
        weekdays=[weekday_name(d) for d in range(7)],
        confirm=ConfirmForm(),
        today=entry.for_request().now.astimezone(entry.for_request().zone).date(),
    )


@bp.route("/<int:point_id>/closing-days/<int:closing_day_id>/delete", methods=["POST"])
@login_required
def reopen_day(point_id: int, closing_day_id: int) -> Response:
    point = _editable(point_id)
    if ConfirmForm().validate_on_submit():
        with service_call() as call:
            pickup.remove_closing_day(db.session, call.ctx, point=point, closing_day_id=closing_day_id)
        if call.ok:
            flash(_("Jour de fermeture retiré."), "success")
    return redirect(url_for("points.edit", point_id=point.id))


@bp.route("/new/<dept:code>", methods=["GET", "POST"])
@login_required
def new(code: str):
    """Another place a host of the département keeps items."""
    ctx = entry.for_request()
    if not (ctx.actor is not None and (ctx.actor.is_admin or ctx.actor.hosts(code))):
        abort(403)
    form = NewPointForm()
    if form.validate_on_submit():
        with service_call(form, ctx=ctx) as call:
            made = pickup.add_point(db.session, call.ctx, departement_code=code, name=form.name.data or "")
            made_id = made.id
        if call.ok:
            flash(_("Lieu de retrait ajouté : indiquez son adresse et ses horaires."), "success")
            return redirect(url_for("points.edit", point_id=made_id))
    return render_template("points/new.html", form=form, code=code, points=pickup.of_departement(db.session, code))
