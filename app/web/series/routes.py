"""Bookings and training sessions that repeat: preview every occurrence, book the free ones at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from app import entry
from app.extensions import db
from app.models import Booking, BookingStatus, Category, Recurrence
from app.services import booking, catalogue, kits, series, training
from app.services.errors import DomainError, RuleViolation
from app.web.acting import refuse, service_call
from app.web.choices import departement_choices
from app.web.forms import DATETIME_FORMAT, read_local_period, wall_clock_from_address
from app.web.series.forms import CancelInSeriesForm, SeriesForm, TrainingSeriesForm
from app.web.trainings.routes import _advised, _fields, _topic_choices

bp = Blueprint("series", __name__, url_prefix="/series")


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> ResponseReturnValue:
    """A series of one resource (`?resource=<id>`) or of a whole kit (`?kit=<slug>`)."""
    form = SeriesForm()
    if request.method == "GET":
        form.starts_at.data = wall_clock_from_address(request.args.get("start"))
        form.ends_at.data = wall_clock_from_address(request.args.get("end"))
    if "kit" in request.args:
        slug = request.args.get("kit", "")
        if not slug or len(slug) > 60:
            abort(404)
        kit = kits.by_slug(db.session, slug)
        done, planned = _preview_or_book(
            form, {"kit": kit}, series.plan_kit, series.book_kit, _told_kit_dates, refused=DomainError
        )
        if done is not None:
            return done
        return render_template(
            "series/new_kit.html",
            form=form,
            kit=kit,
            plan=planned,
            rule_words=_rule_words(form, planned),
            suggestion_link=lambda o: _kit_alone_link(kit.slug, o),
        )
    raw_id = request.args.get("resource", "")
    if not raw_id.isdigit():
        abort(404)
    resource = catalogue.get_resource(db.session, int(raw_id))
    if resource.is_retired:
        abort(404)
    done, planned = _preview_or_book(
        form, {"resource": resource}, series.plan, series.book, _told_dates, refused=RuleViolation
    )
    if done is not None:
        return done
    return render_template(
        "series/new.html",
        form=form,
        resource=resource,
        plan=planned,
        rule_words=_rule_words(form, planned),
        suggestion_link=lambda o: _alone_link(resource.id, o),
    )


def _preview_or_book(
    form: SeriesForm,
    target: dict[str, Any],
    plan: Callable[..., series.Plan],
    book: Callable[..., series.Booked],
    told: Callable[[series.Booked], str],
    *,
    refused: type[DomainError],
) -> tuple[ResponseReturnValue | None, series.Plan | None]:
    """The page's step, for a resource or a kit alike: book the free dates (the redirect to the
    series is returned), or preview them (the plan is returned, with the reason it has none)."""
    if not (form.validate_on_submit() and (period := read_local_period(form))):
        return None, None
    ctx = entry.for_request()
    rule: dict[str, Any] = {
        **target,
        "starts_at": period[0],
        "ends_at": period[1],
        "recurrence": Recurrence(form.recurrence.data),
        "interval": form.interval.data or 0,
        "until": form.until.data,
        "count": form.count.data,
    }
    refused_by_booking = False
    if form.book.data:
        with service_call(form, ctx=ctx) as call:
            done = book(db.session, call.ctx, purpose=form.purpose.data or "", **rule)
            series_id, message = done.series.id, told(done)
            if done.skipped:
                message += " " + ngettext(
                    "%(num)d date n'était pas libre : elle n'est pas réservée.",
                    "%(num)d dates n'étaient pas libres : elles ne sont pas réservées.",
                    len(done.skipped),
                )
        if call.ok:
            flash(message, "success")
            return redirect(url_for("series.detail", series_id=series_id)), None
        refused_by_booking = True
    # The preview, and after a refused booking the statuses that explain it.
    planned = None
    try:
        planned = plan(db.session, ctx, **rule)
    except refused as error:
        if not refused_by_booking:  # else already shown by service_call
            refuse(error, form)
    finally:
        # A kit's plan tries each date in a savepoint: nothing of it may outlive this request.
        db.session.rollback()
    return None, planned


def _told_dates(done: series.Booked) -> str:
    made = done.bookings
    if any(b.status is BookingStatus.REQUESTED for b in made):
        return ngettext(
            "Demande envoyée pour %(num)d date : l'hôte du département va la valider.",
            "Demande envoyée pour %(num)d dates : l'hôte du département va les valider.",
            len(made),
        )
    return ngettext("%(num)d date réservée.", "%(num)d dates réservées.", len(made))


def _told_kit_dates(done: series.Booked) -> str:
    made = done.bookings
    dates_made = len({b.kit_booking_id for b in made})
    if any(b.status is BookingStatus.REQUESTED for b in made):
        return ngettext(
            "Demande envoyée pour le kit, %(num)d date : l'hôte du département va la valider.",
            "Demande envoyée pour le kit, %(num)d dates : l'hôte du département va les valider.",
            dates_made,
        )
    return ngettext("Kit réservé pour %(num)d date.", "Kit réservé pour %(num)d dates.", dates_made)


def _kit_alone_link(slug: str, occurrence: series.Occurrence) -> str | None:
    """The kit's booking form pre-filled with the next time the whole kit is free."""
    if occurrence.next_free is None:
        return None
    zone = entry.for_request().zone
    start, end = (v.astimezone(zone).strftime(DATETIME_FORMAT) for v in occurrence.next_free)
    return url_for("kits.detail", slug=slug, start=start, end=end)


def _rule_words(form: SeriesForm, planned: series.Plan | None) -> str | None:
    if not planned:
        return None
    return series.describe(
        Recurrence(form.recurrence.data), form.interval.data or 1, planned[0].starts_at, entry.for_request().zone
    )


def _alone_link(resource_id: int, occurrence: series.Occurrence) -> str | None:
    """The booking form pre-filled with a clash's next free slot: to book that one alone."""
    if occurrence.next_free is None:
        return None
    zone = entry.for_request().zone
    start, end = (v.astimezone(zone).strftime(DATETIME_FORMAT) for v in occurrence.next_free)
    return url_for("bookings.new", resource=resource_id, start=start, end=end)


@bp.route("/<int:series_id>")
@login_required
def detail(series_id: int) -> ResponseReturnValue:
    ctx = entry.for_request()
    found = series.visible(db.session, ctx, series_id)
    bookings = series.bookings_of(db.session, found.id)
    # A kit series shows one line per date, its items beneath: a date is cancelled whole.
    groups: dict[int, list[Booking]] = {}
    for b in bookings:
        groups.setdefault(b.kit_booking_id or -b.id, []).append(b)
    first_kit = next((b.kit_booking_id for b in bookings if b.kit_booking_id is not None), None)
    return render_template(
        "series/detail.html",
        series=found,
        bookings=bookings,
        groups=list(groups.values()),
        kit=kits.get_booking(db.session, first_kit).kit if first_kit is not None else None,
        resource=bookings[0].resource if bookings and first_kit is None else None,
        rule_words=series.describe(found.recurrence, found.interval, bookings[0].starts_at, ctx.zone)
        if bookings
        else found.recurrence.label,
        cancellable={b.id for b in bookings if series.can_cancel(b, ctx.now)},
        may_cancel=bool(bookings) and booking.can_see_details(ctx.actor, bookings[0]),
    )


@bp.route("/<int:series_id>/cancel", methods=["POST"])
@login_required
def cancel(series_id: int) -> ResponseReturnValue:
    form = CancelInSeriesForm()
    raw_id = form.booking.data or ""
    if not form.validate_on_submit() or not raw_id.isdigit():
        abort(400)
    found = db.session.get(Booking, int(raw_id))
    if found is None or found.series_id != series_id:
        abort(404)
    with service_call() as call:
        cancelled = len(series.cancel(db.session, call.ctx, booking=found, scope=form.scope.data))
    if call.ok:
        flash(ngettext("%(num)d réservation annulée.", "%(num)d réservations annulées.", cancelled), "success")
    return redirect(url_for("series.detail", series_id=series_id))


# Training sessions ---------------------------------------------------------------------------


@bp.route("/trainings/new", methods=["GET", "POST"])
@login_required
def new_training() -> ResponseReturnValue:
    if not (current_user.is_trainer or current_user.is_admin):
        abort(403)  # a courtesy: training.create_series refuses anyone else
    form = TrainingSeriesForm()
    form.topic.choices = _topic_choices()
    form.departement.choices = departement_choices(blank=_("— (en ligne) —"))
    categories = db.session.scalars(select(Category).where(Category.retired_at.is_(None)).order_by(Category.name))
    form.advised.choices = [(str(c.id), c.name) for c in categories]
    if form.validate_on_submit() and (fields := _fields(form)):
        with service_call(form) as call:
            made = training.create_series(
                db.session,
                call.ctx,
                fields=fields,
                advised=_advised(form),
                recurrence=Recurrence(form.recurrence.data),
                interval=form.interval.data or 0,
                until=form.until.data,
                count=form.count.data,
            )
            created = len(made)
        if call.ok:
            flash(ngettext("%(num)d session créée.", "%(num)d sessions créées.", created), "success")
            # The trainings of that topic, where every session of the series shows.
            return redirect(url_for("trainings.index", topic=fields.topic_id))
    return render_template("series/training_new.html", form=form)
