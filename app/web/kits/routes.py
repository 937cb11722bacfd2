"""Kits: what a live needs, defined by admins and booked as one by members."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from app import entry
from app.extensions import db
from app.i18n import UnusableLocalTime, from_local
from app.models import Booking, BookingStatus, Resource
from app.services import booking, kits
from app.services.kits import LineSpec
from app.web.access import admin_required
from app.web.acting import service_call
from app.web.choices import category_choices, departement_choices
from app.web.forms import DATETIME_FORMAT, ConfirmForm, read_local_period, wall_clock_from_address
from app.web.kits.forms import KitBookingForm, KitDatesForm, KitForm

bp = Blueprint("kits", __name__, url_prefix="/kits")


@bp.app_template_global("kit_summary")
def kit_summary(item: Booking) -> tuple[str, int, int] | None:
    """For a booking that is part of a kit: (the kit's name, how many items, the kit booking's id)."""
    if item.kit_booking_id is None:
        return None
    cache: dict[int, tuple[str, int, int]] = g.setdefault("kit_summaries", {})
    if item.kit_booking_id not in cache:
        found = kits.get_booking(db.session, item.kit_booking_id)
        count = kits.item_counts(db.session, [found.id]).get(found.id, 0)
        cache[found.id] = (found.kit.name, count, found.id)
    return cache[item.kit_booking_id]


def _read_period(raw_start: str | None, raw_end: str | None) -> tuple[datetime, datetime] | None:
    """A period from the address (the list's "free between" chooser); None when it is not one."""
    start_clock, end_clock = wall_clock_from_address(raw_start), wall_clock_from_address(raw_end)
    if start_clock is None or end_clock is None:
        return None
    try:
        start, end = from_local(start_clock), from_local(end_clock)
    except UnusableLocalTime:
        return None
    return (start, end) if end > start else None


@bp.route("")
def index() -> ResponseReturnValue:
    found = kits.listed(db.session)
    period = _read_period(request.args.get("start"), request.args.get("end"))
    free = kits.free_counts(db.session, kits=found, starts_at=period[0], ends_at=period[1]) if period else None
    return render_template(
        "kits/index.html",
        kits=found,
        free=free,
        period=period,
        start_value=request.args.get("start", ""),
        end_value=request.args.get("end", ""),
    )


@bp.route("/<slug>", methods=["GET", "POST"])
@login_required
def detail(slug: str) -> ResponseReturnValue:
    kit = kits.by_slug(db.session, slug)
    form = KitBookingForm()
    if request.method == "GET":
        form.starts_at.data = wall_clock_from_address(request.args.get("start"))
        form.ends_at.data = wall_clock_from_address(request.args.get("end"))
        form.purpose.data = (request.args.get("purpose") or "")[:500]
    suggestion = None
    if form.validate_on_submit() and (period := read_local_period(form)):
        starts_at, ends_at = period
        with service_call(form) as call:
            made = kits.book(
                db.session, call.ctx, kit=kit, starts_at=starts_at, ends_at=ends_at, purpose=form.purpose.data or ""
            )
            made_id = made.id
            pending = any(b.status is BookingStatus.REQUESTED for b in kits.bookings_of(db.session, made))
        if call.ok:
            if pending:
                flash(_("Demande envoyée : les hôtes des départements concernés vont la valider."), "success")
            else:
                flash(_("Kit réservé."), "success")
            return redirect(url_for("kits.booking_detail", kit_booking_id=made_id))
        suggestion = call.error.suggestion if call.error is not None else None
    zone = entry.for_request().zone
    return render_template(
        "kits/detail.html",
        kit=kit,
        form=form,
        suggestion=suggestion,
        suggestion_values=[v.astimezone(zone).strftime(DATETIME_FORMAT) for v in suggestion] if suggestion else None,
    )


@bp.route("/bookings/<int:kit_booking_id>")
@login_required
def booking_detail(kit_booking_id: int) -> ResponseReturnValue:
    ctx = entry.for_request()
    found = kits.visible(db.session, ctx, kit_booking_id)
    items = kits.bookings_of(db.session, found)
    home = found.user.departement_code
    return render_template(
        "kits/booking.html",
        kit_booking=found,
        items=items,
        away={b.id for b in items if home and b.resource.departement_code != home},
        pending=any(b.status is BookingStatus.REQUESTED for b in items),
        live=any(b.is_holding and not booking.is_over(b, ctx.now) for b in items),
        dates_form=KitDatesForm(),
    )


@bp.route("/bookings/<int:kit_booking_id>/cancel", methods=["POST"])
@login_required
def cancel(kit_booking_id: int) -> ResponseReturnValue:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    found = kits.get_booking(db.session, kit_booking_id)
    with service_call() as call:
        done = len(kits.cancel(db.session, call.ctx, kit_booking=found))
    if call.ok:
        flash(_("Kit annulé : %(num)d objet(s) libéré(s).", num=done), "success")
    return redirect(url_for("kits.booking_detail", kit_booking_id=kit_booking_id))


@bp.route("/bookings/<int:kit_booking_id>/dates", methods=["POST"])
@login_required
def change_dates(kit_booking_id: int) -> ResponseReturnValue:
    found = kits.get_booking(db.session, kit_booking_id)
    form = KitDatesForm()
    if form.validate_on_submit() and (period := read_local_period(form)):
        starts_at, ends_at = period
        with service_call() as call:
            kits.change_dates(db.session, call.ctx, kit_booking=found, starts_at=starts_at, ends_at=ends_at)
        if call.ok:
            flash(_("Tout le kit est déplacé."), "success")
        return redirect(url_for("kits.booking_detail", kit_booking_id=kit_booking_id))
    flash(_("Indiquez un début et une fin."), "danger")
    return redirect(url_for("kits.booking_detail", kit_booking_id=kit_booking_id))


# Admin ---------------------------------------------------------------------------------------


@bp.route("/admin")
@admin_required
def admin() -> ResponseReturnValue:
    return render_template("kits/admin.html", kits=kits.listed(db.session, include_retired=True))


def _fill_choices(form: KitForm) -> None:
    resources = db.session.scalars(
        select(Resource).where(Resource.retired_at.is_(None)).order_by(Resource.name, Resource.id)
    ).unique()
    items = [("", "—")] + [(str(r.id), f"{r.name} · {r.departement.label}") for r in resources]
    categories = category_choices(blank="—")
    form.departement.choices = departement_choices(blank=_("Tous"))
    for entry_ in form.lines:
        entry_.form.item.choices = items
        entry_.form.category.choices = categories


def _lines(form: KitForm) -> list[LineSpec]:
    specs = []
    for number, entry_ in enumerate(form.lines, start=1):
        line = entry_.form
        item, category = line.item.data or "", line.category.data or ""
        item, category = (item if item.isdigit() else ""), (category if category.isdigit() else "")
        if not item and not category:
            continue
        specs.append(
            LineSpec(
                resource_id=int(item) if item else None,
                category_id=int(category) if category else None,
                quantity=line.quantity.data or 1,
                number=number,
            )
        )
    return specs


@bp.route("/admin/new", methods=["GET", "POST"])
@bp.route("/admin/<int:kit_id>/edit", methods=["GET", "POST"])
@admin_required
def edit(kit_id: int | None = None) -> ResponseReturnValue:
    kit = kits.get(db.session, kit_id) if kit_id is not None else None
    form = KitForm()
    _fill_choices(form)
    if request.method == "GET" and kit is not None:
        form.name.data, form.description.data = kit.name, kit.description
        form.departement.data = kit.departement_code or ""
        for entry_, line in zip(form.lines, kit.lines, strict=False):
            entry_.form.item.data = str(line.resource_id) if line.resource_id else ""
            entry_.form.category.data = str(line.category_id) if line.category_id else ""
            entry_.form.quantity.data = line.quantity
    if form.validate_on_submit():
        with service_call(form) as call:
            saved = kits.save(
                db.session,
                call.ctx,
                kit=kit,
                name=form.name.data or "",
                description=form.description.data or "",
                departement_code=form.departement.data or None,
                lines=_lines(form),
            )
            saved_name = saved.name
        if call.ok:
            flash(_("Kit « %(name)s » enregistré.", name=saved_name), "success")
            return redirect(url_for("kits.admin"))
    return render_template("kits/edit.html", form=form, kit=kit)


@bp.route("/admin/<int:kit_id>/retire", methods=["POST"])
@admin_required
def retire(kit_id: int) -> ResponseReturnValue:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    kit = kits.get(db.session, kit_id)
    with service_call() as call:
        kits.set_retired(db.session, call.ctx, kit=kit, retired=kit.retired_at is None)
    if call.ok:
        flash(_("Kit mis à jour."), "success")
    return redirect(url_for("kits.admin"))
