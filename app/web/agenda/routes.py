"""The regional agenda: by month, département, theme, audience and campaign; proposals and moderation."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from app import entry
from app.extensions import db
from app.models import AgendaEvent, AgendaTheme, EventStatus
from app.services import agenda, feeds
from app.services import calendar as cal
from app.services.errors import NotFound
from app.web.acting import service_call
from app.web.agenda.forms import AgendaFilterForm, EventForm, RefuseForm
from app.web.calendars import requested_month
from app.web.choices import departement_choices
from app.web.feeds.ics import ics_response, link
from app.web.forms import ConfirmForm, read_local_period
from app.web.names import named
from app.web.pagination import current_page

bp = Blueprint("agenda", __name__, url_prefix="/agenda")
BOOKMARK_LINES = 12


def _filter_form() -> AgendaFilterForm:
    form = AgendaFilterForm(request.args)
    form.departement.choices = departement_choices(blank=_("Tous"))
    form.theme.choices = [("", _("Tous")), *[(t.slug, named(t)) for t in agenda.themes(db.session)]]
    form.audience.choices = [("", _("Tous")), *[(k, str(v)) for k, v in agenda.AUDIENCES.items()]]
    form.campaign.choices = [("", _("Toutes")), *[(k, str(v)) for k, v in agenda.CAMPAIGNS.items()]]
    return form


def _filters(form: AgendaFilterForm, year: int | None, month: int | None, **fixed: Any) -> agenda.AgendaFilter:
    valid = form.validate()
    values = (
        {
            "departement_code": form.departement.data or None,
            "theme_slug": form.theme.data or None,
            "audience": form.audience.data or None,
            "campaign": form.campaign.data or None,
        }
        if valid
        else {}
    )
    values.update(fixed)
    return agenda.AgendaFilter(year=year, month=month, **values)


def _days(
    events: Iterable[AgendaEvent], year: int, month: int, zone: ZoneInfo
) -> list[list[tuple[date, bool, list[AgendaEvent]]]]:
    """Monday-first weeks of (day, in month, events that day)."""
    by_day: dict[date, list[AgendaEvent]] = {}
    for event in events:
        day, last = event.starts_at.astimezone(zone).date(), event.ends_at.astimezone(zone).date()
        if event.all_day and last > day:
            last -= timedelta(days=1)  # an all-day end is exclusive
        while day <= last and (day - event.starts_at.astimezone(zone).date()).days < 62:
            by_day.setdefault(day, []).append(event)
            day += timedelta(days=1)
    days = cal.grid_days(year, month)
    return [[(d, d.month == month, by_day.get(d, [])) for d in days[i : i + 7]] for i in range(0, len(days), 7)]


def _listing(template: str, title: str, **fixed: Any) -> str:
    ctx = entry.for_request()
    form = _filter_form()
    year, month = requested_month()
    filters = _filters(form, year, month, **fixed)
    query = agenda.public_events(ctx, filters)
    view = "grid" if request.args.get("view") == "grid" else "list"
    shown: dict[str, Any]
    if view == "grid":
        events = list(db.session.scalars(query).unique())
        shown = {"weeks": _days(events, year, month, ctx.zone), "events": events, "pagination": None}
    else:
        pagination = db.paginate(query, page=current_page(), per_page=current_app.config["PER_PAGE"], error_out=False)
        shown = {"events": pagination.items, "pagination": pagination}
    return render_template(
        template,
        form=form,
        title=title,
        view=view,
        year=year,
        month=month,
        previous_month=cal.shift_month(year, month, -1),
        next_month=cal.shift_month(year, month, 1),
        EventStatus=EventStatus,
        **shown,
    )


@bp.route("")
def index() -> ResponseReturnValue:
    return _listing("agenda/index.html", _("Agenda des sciences en Occitanie"))


@bp.route("/themes/<slug>")
def theme(slug: str) -> ResponseReturnValue:
    found = db.session.scalar(select(AgendaTheme).where(AgendaTheme.slug == slug))
    if found is None:
        abort(404)
    return _listing("agenda/index.html", found.name, theme_slug=slug)


def _today() -> date:
    ctx = entry.for_request()
    return ctx.now.astimezone(ctx.zone).date()


@bp.route("/rentree")
def rentree() -> ResponseReturnValue:
    """« La Rentrée » : the September programme."""
    if "month" not in request.args:
        today = _today()
        year = today.year if today.month <= 9 else today.year + 1
        return redirect(url_for("agenda.rentree", month=f"{year}-09"))
    return _listing("agenda/index.html", _("La Rentrée des sciences"), campaign="rentree")


@bp.route("/ete")
def ete() -> ResponseReturnValue:
    """« L'Été » : June to August."""
    if "month" not in request.args:
        today = _today()
        year = today.year if today.month <= 8 else today.year + 1
        month = today.month if 6 <= today.month <= 8 else 6
        return redirect(url_for("agenda.ete", month=f"{year}-{month:02d}"))
    return _listing("agenda/index.html", _("L'Été des sciences"), campaign="ete")


@bp.route("/<int:event_id>")
def detail(event_id: int) -> ResponseReturnValue:
    ctx = entry.for_request()
    try:
        event = agenda.visible(db.session, ctx, event_id=event_id)
    except NotFound:
        abort(404)
    return render_template(
        "agenda/detail.html",
        event=event,
        moderator=agenda.can_moderate(ctx.actor, event),
        confirm=ConfirmForm(),
        refuse_form=RefuseForm(),
        EventStatus=EventStatus,
    )


@bp.route("/print")
def print_programme() -> ResponseReturnValue:
    """The month's programme on A4, or as a narrow bookmark strip (`format=bookmark`)."""
    form = _filter_form()
    year, month = requested_month()
    query = agenda.public_events(entry.for_request(), _filters(form, year, month))
    events = [e for e in db.session.scalars(query).unique() if e.status is EventStatus.PUBLISHED]
    bookmark = request.args.get("format") == "bookmark"
    if bookmark:
        # The strip holds a dozen lines: the Region-supported events first, then by date.
        main = sorted(events, key=lambda e: (not e.region_supported, e.starts_at))[:BOOKMARK_LINES]
        events = sorted(main, key=lambda e: e.starts_at)
    return render_template("agenda/print.html", events=events, bookmark=bookmark, year=year, month=month)


@bp.route("/region")
def region() -> ResponseReturnValue:
    raw = request.args.get("year", "")
    year = int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else _today().year
    return render_template("agenda/region.html", year=year, grouped=agenda.region_supported(db.session, year))


def _event_or_404(event_id: int) -> AgendaEvent:
    try:
        return agenda.get(db.session, event_id)
    except NotFound:
        abort(404)


def _event_form(event: AgendaEvent | None = None) -> EventForm:
    form = EventForm(obj=event)
    form.departement.choices = departement_choices()
    form.themes.choices = [(str(t.id), named(t)) for t in agenda.themes(db.session)]
    form.audiences.choices = [(k, str(v)) for k, v in agenda.AUDIENCES.items()]
    form.campaign.choices = [("", _("Aucune")), *[(k, str(v)) for k, v in agenda.CAMPAIGNS.items()]]
    if request.method == "GET" and event is not None:
        zone = entry.for_request().zone
        form.departement.data = event.departement_code
        form.themes.data = [str(t.id) for t in event.themes]
        form.audiences.data = event.audiences.split()
        form.campaign.data = event.campaign or ""
        form.starts_at.data = event.starts_at.astimezone(zone).replace(tzinfo=None)
        form.ends_at.data = event.ends_at.astimezone(zone).replace(tzinfo=None)
    return form


def _fields(form: EventForm) -> agenda.EventFields | None:
    period = read_local_period(form)
    if period is None:
        return None
    starts_at, ends_at = period
    return agenda.EventFields(
        title=form.title.data or "",
        description=form.description.data or "",
        starts_at=starts_at,
        ends_at=ends_at,
        all_day=form.all_day.data,
        departement_code=form.departement.data,
        town=form.town.data or "",
        link=form.link.data or None,
        audiences=form.audiences.data or [],
        theme_ids=[int(v) for v in form.themes.data or []],
        region_supported=form.region_supported.data,
        campaign=form.campaign.data or None,
        organiser_name=form.organiser_name.data or "",
    )


@bp.route("/propose", methods=["GET", "POST"])
@login_required
def propose() -> ResponseReturnValue:
    form = _event_form()
    if form.validate_on_submit() and (fields := _fields(form)):
        with service_call(form) as call:
            event = agenda.propose(db.session, call.ctx, fields=fields)
        if call.ok:
            published = event.status is EventStatus.PUBLISHED
            flash(
                _("Événement publié.") if published else _("Merci ! L'événement sera publié après relecture."),
                "success",
            )
            return redirect(url_for("agenda.detail", event_id=event.id))
    return render_template("agenda/form.html", form=form, event=None)


@bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
@login_required
def edit(event_id: int) -> ResponseReturnValue:
    event = _event_or_404(event_id)
    if not agenda.can_moderate(current_user, event):
        abort(403)  # a courtesy: the service decides
    form = _event_form(event)
    if form.validate_on_submit() and (fields := _fields(form)):
        with service_call(form) as call:
            agenda.update(db.session, call.ctx, event=event, fields=fields)
        if call.ok:
            flash(_("Événement enregistré."), "success")
            return redirect(url_for("agenda.detail", event_id=event_id))
    return render_template("agenda/form.html", form=form, event=event)


@bp.route("/moderation")
@login_required
def moderation() -> ResponseReturnValue:
    if not (current_user.is_admin or current_user.is_host):
        abort(403)  # the same rule as the service's, so that it never refuses here
    return render_template(
        "agenda/moderation.html",
        events=agenda.to_moderate(db.session, entry.for_request()),
        confirm=ConfirmForm(),
        refuse_form=RefuseForm(),
    )


@bp.route("/<int:event_id>/publish", methods=["POST"])
@login_required
def publish(event_id: int) -> ResponseReturnValue:
    event = _event_or_404(event_id)
    if not agenda.can_moderate(current_user, event):
        abort(403)  # a courtesy: the service decides
    if ConfirmForm().validate_on_submit():
        with service_call() as call:
            agenda.publish(db.session, call.ctx, event=event)
        if call.ok:
            flash(_("Événement publié."), "success")
    if request.form.get("back") == "moderation":
        return redirect(url_for("agenda.moderation"))
    return redirect(url_for("agenda.detail", event_id=event_id))


@bp.route("/<int:event_id>/refuse", methods=["POST"])
@login_required
def refuse(event_id: int) -> ResponseReturnValue:
    event = _event_or_404(event_id)
    if not agenda.can_moderate(current_user, event):
        abort(403)  # a courtesy: the service decides
    form = RefuseForm()
    if form.validate_on_submit():
        with service_call() as call:
            agenda.refuse(db.session, call.ctx, event=event, reason=form.reason.data or "")
        if call.ok:
            flash(_("Événement refusé."), "success")
    else:
        flash(_("Indiquez le motif du refus."), "danger")
    return redirect(url_for("agenda.moderation"))


def feed_response() -> Response:
    """/feeds/agenda.ics: same filters as the page; every published event of the coming year and the past month."""
    ctx = entry.for_request()
    filters = _filters(_filter_form(), None, None)
    feed = feeds.agenda(db.session, ctx, events=agenda.public_events(ctx, filters), link=link)
    return ics_response(_("Agenda des sciences en Occitanie"), feed, private=False)
