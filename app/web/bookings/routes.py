"""A member's bookings: make one, see them, change, extend or cancel, reveal an account's login."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app.extensions import db
from app.i18n import app_zone, utcnow
from app.models import HOLDING_STATUSES, Booking, BookingStatus
from app.services import audit, booking, catalogue, credentials, feeds
from app.services.errors import DomainError
from app.web.admin.forms import ConfirmForm
from app.web.bookings.forms import BookingForm, ExtendForm, KitForm, PeriodForm
from app.web.calendars import resource_month
from app.web.choices import category_choices, departement_choices
from app.web.feeds.ics import domain, ics_response, link
from app.web.forms import apply_domain_error, read_local_datetime
from app.web.pagination import current_page

bp = Blueprint("bookings", __name__, url_prefix="/bookings")


def _period(form):
    starts_at = read_local_datetime(form.starts_at)
    ends_at = read_local_datetime(form.ends_at)
    return (starts_at, ends_at) if starts_at and ends_at else None


def _refused(form, error: DomainError) -> None:
    if not apply_domain_error(form, error):
        flash(error.message, "danger")


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
    if form.validate_on_submit() and (period := _period(form)):
        try:
            made = booking.create(
                db.session,
                actor=current_user,
                resource=resource,
                starts_at=period[0],
                ends_at=period[1],
                purpose=form.purpose.data or "",
                now=utcnow(),
            )
        except DomainError as error:
            _refused(form, error)
        else:
            if made.status == BookingStatus.REQUESTED:
                flash(_("Demande envoyée : l'hôte du département va la valider."), "success")
            else:
                flash(_("Réservation confirmée."), "success")
            return redirect(url_for("bookings.detail", booking_id=made.id))
    return render_template("bookings/new.html", form=form, resource=resource, **resource_month(resource))


@bp.route("/kit", methods=["GET", "POST"])
@login_required
def kit():
    form = KitForm()
    form.category.choices = category_choices(blank=_("— Choisissez —"))
    form.departement.choices = departement_choices(blank=_("Peu importe"))
    if request.method == "GET":
        form.departement.data = current_user.departement_code or ""
        form.category.data = request.args.get("category", "")
    if form.validate_on_submit() and (period := _period(form)):
        try:
            category = catalogue.get_category(db.session, int(form.category.data))
            made = booking.book_a_unit(
                db.session,
                actor=current_user,
                category=category,
                starts_at=period[0],
                ends_at=period[1],
                purpose=form.purpose.data or "",
                preferred_departement=form.departement.data or None,
                now=utcnow(),
            )
        except DomainError as error:
            _refused(form, error)
        else:
            flash(_("Réservé : %(name)s.", name=made.resource.name), "success")
            return redirect(url_for("bookings.detail", booking_id=made.id))
    return render_template("bookings/kit.html", form=form)


@bp.route("/mine")
@login_required
def mine():
    now = utcnow()
    base = select(Booking).where(Booking.user_id == current_user.id)
    holding = [s.value for s in HOLDING_STATUSES]
    current = db.session.scalars(
        base.where(Booking.status.in_(holding), Booking.starts_at <= now, Booking.ends_at > now).order_by(
            Booking.ends_at
        )
    ).unique()
    late = db.session.scalars(
        base.where(Booking.status == BookingStatus.PICKED_UP.value, Booking.ends_at <= now).order_by(Booking.ends_at)
    ).unique()
    upcoming = db.session.scalars(
        base.where(Booking.status.in_(holding), Booking.starts_at > now).order_by(Booking.starts_at)
    ).unique()
    past = db.paginate(
        base.where(~(Booking.status.in_(holding) & (Booking.ends_at > now)))
        .where(~((Booking.status == BookingStatus.PICKED_UP.value) & (Booking.ends_at <= now)))
        .order_by(Booking.starts_at.desc()),
        page=current_page(),
        per_page=15,
        error_out=False,
    )
    return render_template(
        "bookings/mine.html", current=list(current), late=list(late), upcoming=list(upcoming), past=past
    )


def _visible_booking(booking_id: int) -> Booking:
    found = booking.get(db.session, booking_id)
    if not booking.can_see_details(current_user, found):
        abort(403)
    return found


@bp.route("/<int:booking_id>")
@login_required
def detail(booking_id: int):
    found = _visible_booking(booking_id)
    return _render_detail(found)


def _render_detail(found: Booking, *, revealed=None, period_form=None, extend_form=None):
    now = utcnow()
    return render_template(
        "bookings/detail.html",
        booking=found,
        history=audit.history(db.session, "booking", found.id),
        revealed=revealed,
        now=now,
        is_holder=found.user_id == current_user.id,
        can_manage=booking.can_manage(current_user, found.resource),
        period_form=period_form or PeriodForm(starts_at=_local(found.starts_at), ends_at=_local(found.ends_at)),
        extend_form=extend_form or ExtendForm(ends_at=_local(found.ends_at + timedelta(days=1))),
        confirm=ConfirmForm(),
    )


def _local(value):
    return value.astimezone(app_zone()).replace(tzinfo=None)


@bp.route("/<int:booking_id>/credentials", methods=["POST"])
@login_required
def reveal(booking_id: int):
    found = booking.get(db.session, booking_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    shown = credentials.reveal(
        db.session, actor=current_user, booking=found, key=current_app.config["CREDENTIALS_KEY"], now=utcnow()
    )
    response = current_app.make_response(_render_detail(found, revealed=shown))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:booking_id>/cancel", methods=["POST"])
@login_required
def cancel(booking_id: int):
    found = _visible_booking(booking_id)
    if ConfirmForm().validate_on_submit():
        booking.cancel(db.session, actor=current_user, booking=found, now=utcnow())
        flash(_("Réservation annulée."), "success")
    return redirect(url_for("bookings.detail", booking_id=found.id))


@bp.route("/<int:booking_id>/dates", methods=["POST"])
@login_required
def change_dates(booking_id: int):
    found = _visible_booking(booking_id)
    form = PeriodForm()
    if form.validate_on_submit() and (period := _period(form)):
        try:
            booking.change_dates(
                db.session, actor=current_user, booking=found, starts_at=period[0], ends_at=period[1], now=utcnow()
            )
        except DomainError as error:
            _refused(form, error)
        else:
            flash(_("Dates modifiées."), "success")
            return redirect(url_for("bookings.detail", booking_id=found.id))
    return _render_detail(found, period_form=form), 422


@bp.route("/<int:booking_id>/extend", methods=["POST"])
@login_required
def extend(booking_id: int):
    found = _visible_booking(booking_id)
    form = ExtendForm()
    if form.validate_on_submit() and (ends_at := read_local_datetime(form.ends_at)):
        try:
            booking.extend(db.session, actor=current_user, booking=found, ends_at=ends_at, now=utcnow())
        except DomainError as error:
            _refused(form, error)
        else:
            flash(_("Réservation prolongée."), "success")
            return redirect(url_for("bookings.detail", booking_id=found.id))
    return _render_detail(found, extend_form=form), 422


@bp.route("/<int:booking_id>.ics")
@login_required
def ics(booking_id: int):
    """ "Add to my calendar": the booking (and its pickup and return) as one .ics file."""
    found = _visible_booking(booking_id)
    items = feeds.booking_items(found, domain(), link("bookings.detail", booking_id=found.id))
    return ics_response(found.resource.name, items, private=True, filename=f"reservation-{found.id}.ics")
