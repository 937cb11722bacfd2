"""A member's bookings: make one, see them, change, extend or cancel, reveal an account's login."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from app import entry
from app.extensions import db
from app.i18n import app_zone
from app.models import Booking, BookingStatus
from app.services import booking, catalogue, credentials, feeds, history, pickup, waitlist
from app.services.context import ServiceContext
from app.services.errors import Conflict, Forbidden
from app.web.acting import service_call
from app.web.bookings.forms import BookingForm, ExtendForm, KitForm, PeriodForm
from app.web.calendars import resource_month
from app.web.choices import category_choices, departement_choices
from app.web.feeds.ics import domain, ics_response, link
from app.web.forms import DATETIME_FORMAT, ConfirmForm, read_local_datetime, read_local_period, wall_clock_from_address
from app.web.pagination import current_page
from app.web.waitlist.forms import WishForm

bp = Blueprint("bookings", __name__, url_prefix="/bookings")


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    raw_id = request.args.get("resource", "")
    if not raw_id.isdigit():
        abort(404)
    resource = catalogue.get_resource(db.session, int(raw_id))
    if resource.is_retired:
        abort(404)
    form = BookingForm()
    if request.method == "GET":
        # A proposed slot ("next free slot", a day picked on a calendar) pre-fills the form.
        form.starts_at.data = wall_clock_from_address(request.args.get("start"))
        form.ends_at.data = wall_clock_from_address(request.args.get("end"))
        form.purpose.data = (request.args.get("purpose") or "")[:500]
    suggestion = wish_form = None
    if form.validate_on_submit() and (period := read_local_period(form)):
        with service_call(form) as call:
            made = booking.create(
                db.session,
                call.ctx,
                resource=resource,
                starts_at=period[0],
                ends_at=period[1],
                purpose=form.purpose.data or "",
            )
            # Read before the commit expires it: no reload of the booking just made.
            made_id, requested = made.id, made.status == BookingStatus.REQUESTED
        if call.ok:
            if requested:
                flash(_("Demande envoyée : l'hôte du département va la valider."), "success")
            else:
                flash(_("Réservation confirmée."), "success")
            return redirect(url_for("bookings.detail", booking_id=made_id))
        suggestion = call.error.suggestion if call.error is not None else None
        if isinstance(call.error, Conflict):
            wish_form = _wish_form(period, form.purpose.data, resource=resource.id)
    return render_template(
        "bookings/new.html",
        form=form,
        wish_form=wish_form,
        resource=resource,
        suggestion=suggestion,
        suggestion_values=[_local(v).strftime(DATETIME_FORMAT) for v in suggestion] if suggestion else None,
        **resource_month(resource),
    )


@bp.route("/kit", methods=["GET", "POST"])
@login_required
def kit():
    form = KitForm()
    form.category.choices = category_choices(blank=_("— Choisissez —"))
    form.departement.choices = departement_choices(blank=_("Peu importe"))
    ctx = entry.for_request()
    wish_form = None
    if request.method == "GET":
        form.departement.data = ctx.user.departement_code or ""
        form.category.data = request.args.get("category", "")
    if form.validate_on_submit() and (period := read_local_period(form)):
        with service_call(form, ctx=ctx) as call:
            made = booking.book_a_unit(
                db.session,
                call.ctx,
                category=catalogue.get_category(db.session, int(form.category.data)),
                starts_at=period[0],
                ends_at=period[1],
                purpose=form.purpose.data or "",
                preferred_departement=form.departement.data or None,
            )
        if call.ok:
            where = made.resource.departement
            if made.status == BookingStatus.REQUESTED:
                done = _(
                    "Demande envoyée : %(name)s, gardé dans le département %(place)s.",
                    name=made.resource.name,
                    place=where.label,
                )
            else:
                done = _(
                    "Réservé : %(name)s, gardé dans le département %(place)s.",
                    name=made.resource.name,
                    place=where.label,
                )
            if made.resource.departement_code != (form.departement.data or ctx.user.departement_code):
                done += " " + _("Attention : hors de votre département, c'est là qu'il faut le retirer.")
            flash(done, "success")
            return redirect(url_for("bookings.detail", booking_id=made.id))
        if isinstance(call.error, Conflict):
            wish_form = _wish_form(
                period, form.purpose.data, category=int(form.category.data), departement=form.departement.data or ""
            )
    return render_template("bookings/kit.html", form=form, wish_form=wish_form)


def _wish_form(period: tuple[datetime, datetime], purpose: str | None, **target: int | str) -> WishForm:
    """« Prévenez-moi si cela se libère », carrying the refused request."""
    return WishForm(
        formdata=None,
        starts_at=_local(period[0]),
        ends_at=_local(period[1]),
        purpose=(purpose or "")[:500],
        **{name: str(value) for name, value in target.items()},
    )


@bp.route("/mine")
@login_required
def mine():
    view = booking.of_member(db.session, entry.for_request())
    past = db.paginate(view.past, page=current_page(), per_page=current_app.config["PER_PAGE"], error_out=False)
    return render_template(
        "bookings/mine.html",
        current=view.current,
        late=view.late,
        upcoming=view.upcoming,
        past=past,
        wishes=waitlist.of_member(db.session, entry.for_request()),
    )


@bp.route("/<int:booking_id>")
@login_required
def detail(booking_id: int):
    return _render_detail(booking.visible(db.session, entry.for_request(), booking_id))


def _render_detail(
    found: Booking,
    *,
    revealed: credentials.Credentials | None = None,
    period_form: PeriodForm | None = None,
    extend_form: ExtendForm | None = None,
) -> str:
    ctx = entry.for_request()
    return render_template(
        "bookings/detail.html",
        booking=found,
        history=history.sentences(db.session, ctx, subject_type="booking", subject_id=found.id),
        revealed=revealed,
        now=ctx.now,
        is_holder=ctx.actor is not None and found.user_id == ctx.actor.id,
        over=booking.is_over(found, ctx.now),
        can_manage=booking.can_manage(ctx.actor, found.resource),
        period_form=period_form or PeriodForm(starts_at=_local(found.starts_at), ends_at=_local(found.ends_at)),
        extend_form=extend_form or ExtendForm(ends_at=_local(_extended_end(found, ctx))),
        confirm=ConfirmForm(),
        hold=waitlist.hold_of(db.session, found) if found.status is BookingStatus.PROPOSED else None,
    )


def _extended_end(found: Booking, ctx: ServiceContext) -> datetime:
    """The end offered for an extension: a day later, at an hour the pickup point is open."""
    later = found.ends_at + timedelta(days=1)
    point = found.resource.pickup_point
    if found.resource.category.needs_pickup and pickup.has_hours(point) and point is not None:
        return pickup.next_opening(point, later, ctx.zone) or later
    return later


def _local(value: datetime) -> datetime:
    return value.astimezone(app_zone()).replace(tzinfo=None)


@bp.route("/<int:booking_id>/credentials", methods=["POST"])
@login_required
def reveal(booking_id: int):
    found = booking.get(db.session, booking_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with service_call() as call:
        # A refusal is written to the audit trail too, so it commits like a reveal.
        shown = credentials.reveal(db.session, call.ctx, booking=found)
    if not call.ok:
        return redirect(url_for("bookings.detail", booking_id=found.id))
    if shown.refusal is not None:
        raise Forbidden(shown.refusal)
    response = current_app.make_response(_render_detail(found, revealed=shown.credentials))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:booking_id>/cancel", methods=["POST"])
@login_required
def cancel(booking_id: int) -> Response:
    if ConfirmForm().validate_on_submit():
        with service_call() as call:
            booking.cancel(db.session, call.ctx, booking=booking.visible(db.session, call.ctx, booking_id))
        if call.ok:
            flash(_("Réservation annulée."), "success")
    return redirect(url_for("bookings.detail", booking_id=booking_id))


@bp.route("/<int:booking_id>/dates", methods=["POST"])
@login_required
def change_dates(booking_id: int):
    found = booking.visible(db.session, entry.for_request(), booking_id)
    form = PeriodForm()
    if form.validate_on_submit() and (period := read_local_period(form)):
        with service_call(form) as call:
            booking.change_dates(db.session, call.ctx, booking=found, starts_at=period[0], ends_at=period[1])
        if call.ok:
            flash(_("Dates modifiées."), "success")
            return redirect(url_for("bookings.detail", booking_id=found.id))
    _say_nothing_changed(form)
    return _render_detail(found, period_form=form), 422


@bp.route("/<int:booking_id>/extend", methods=["POST"])
@login_required
def extend(booking_id: int):
    found = booking.visible(db.session, entry.for_request(), booking_id)
    form = ExtendForm()
    if form.validate_on_submit() and (ends_at := read_local_datetime(form.ends_at)):
        with service_call(form) as call:
            booking.extend(db.session, call.ctx, booking=found, ends_at=ends_at)
        if call.ok:
            flash(_("Réservation prolongée."), "success")
            return redirect(url_for("bookings.detail", booking_id=found.id))
    _say_nothing_changed(form)
    return _render_detail(found, extend_form=form), 422


def _say_nothing_changed(form: PeriodForm | ExtendForm) -> None:
    """On a phone the form's own messages sit below the fold: say at the top that nothing changed."""
    if form.errors:
        flash(_("Rien n'a changé : voyez le message sous le formulaire."), "warning")


@bp.route("/<int:booking_id>.ics")
@login_required
def ics(booking_id: int) -> Response:
    """ "Add to my calendar": the booking (and its pickup and return) as one .ics file."""
    found = booking.visible(db.session, entry.for_request(), booking_id)
    items = feeds.booking_items(found, domain(), link("bookings.detail", booking_id=found.id))
    return ics_response(found.resource.name, items, private=True, filename=f"reservation-{found.id}.ics")
