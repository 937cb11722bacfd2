"""The regional agenda: by month, département, theme, audience and campaign; proposals and moderation."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app.extensions import db
from app.i18n import app_zone, utcnow
from app.models import AgendaTheme
from app.services import agenda, feeds
from app.services import calendar as cal
from app.services.errors import DomainError
from app.web.admin.forms import ConfirmForm
from app.web.agenda.forms import AgendaFilterForm, EventForm, RefuseForm
from app.web.calendars import requested_month
from app.web.choices import departement_choices
from app.web.feeds.ics import domain, ics_response, link
from app.web.forms import apply_domain_error, read_local_datetime
from app.web.pagination import current_page

bp = Blueprint("agenda", __name__, url_prefix="/agenda")
BOOKMARK_LINES = 12


def _filter_form() -> AgendaFilterForm:
    form = AgendaFilterForm(request.args)
    form.departement.choices = departement_choices(blank=_("Tous"))
    form.theme.choices = [("", _("Tous")), *[(t.slug, t.name) for t in agenda.themes(db.session)]]
    form.audience.choices = [("", _("Tous")), *[(k, str(v)) for k, v in agenda.AUDIENCES.items()]]
    form.campaign.choices = [("", _("Toutes")), *[(k, str(v)) for k, v in agenda.CAMPAIGNS.items()]]
    return form


def _filters(form: AgendaFilterForm, year: int | None, month: int | None, **fixed) -> agenda.AgendaFilter:
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


def _days(events, year: int, month: int) -> list[list[tuple]]:
    """Monday-first weeks of (day, in month, events that day)."""
    zone = app_zone()
    by_day: dict = {}
    for event in events:
        day, last = event.starts_at.astimezone(zone).date(), event.ends_at.astimezone(zone).date()
        if event.all_day and last > day:
            last -= timedelta(days=1)  # an all-day end is exclusive
        while day <= last and (day - event.starts_at.astimezone(zone).date()).days < 62:
            by_day.setdefault(day, []).append(event)
            day += timedelta(days=1)
    days = cal.grid_days(year, month)
    return [[(d, d.month == month, by_day.get(d, [])) for d in days[i : i + 7]] for i in range(0, len(days), 7)]


def _listing(template: str, title: str, **fixed):
    form = _filter_form()
    year, month = requested_month()
    filters = _filters(form, year, month, **fixed)
    query = agenda.public_events(filters, app_zone())
    view = "grid" if request.args.get("view") == "grid" else "list"
    if view == "grid":
        events = list(db.session.scalars(query).unique())
        shown = {"weeks": _days(events, year, month), "events": events, "pagination": None}
    else:
        pagination = db.paginate(query, page=current_page(), per_page=30, error_out=False)
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
        **shown,
    )


@bp.route("")
def index():
    return _listing("agenda/index.html", _("Agenda des sciences en Occitanie"))


@bp.route("/themes/<slug>")
def theme(slug: str):
    found = db.session.scalar(select(AgendaTheme).where(AgendaTheme.slug == slug))
    if found is None:
        abort(404)
    return _listing("agenda/index.html", found.name, theme_slug=slug)


@bp.route("/rentree")
def rentree():
    """« La Rentrée » : the September programme."""
    if "month" not in request.args:
        today = utcnow().astimezone(app_zone()).date()
        year = today.year if today.month <= 9 else today.year + 1
        return redirect(url_for("agenda.rentree", month=f"{year}-09"))
    return _listing("agenda/index.html", _("La Rentrée des sciences"), campaign="rentree")


@bp.route("/ete")
def ete():
    """« L'Été » : June to August."""
    if "month" not in request.args:
        today = utcnow().astimezone(app_zone()).date()
        year = today.year if today.month <= 8 else today.year + 1
        month = today.month if 6 <= today.month <= 8 else 6
        return redirect(url_for("agenda.ete", month=f"{year}-{month:02d}"))
    return _listing("agenda/index.html", _("L'Été des sciences"), campaign="ete")


@bp.route("/<int:event_id>")
def detail(event_id: int):
    event = agenda.get(db.session, event_id)
    moderator = current_user.is_authenticated and agenda.can_moderate(current_user, event)
    if (
        event.status not in agenda.PUBLIC
        and not moderator
        and not (current_user.is_authenticated and event.proposed_by_id == current_user.id)
    ):
        abort(404)
    return render_template(
        "agenda/detail.html", event=event, moderator=moderator, confirm=ConfirmForm(), refuse_form=RefuseForm()
    )


@bp.route("/print")
def print_programme():
    """The month's programme on A4, or as a narrow bookmark strip (`format=bookmark`)."""
    form = _filter_form()
    year, month = requested_month()
    events = list(db.session.scalars(agenda.public_events(_filters(form, year, month), app_zone())).unique())
    events = [e for e in events if e.status == "published"]
    bookmark = request.args.get("format") == "bookmark"
    if bookmark:
        # The strip holds a dozen lines: the Region-supported events first, then by date.
        main = sorted(events, key=lambda e: (not e.region_supported, e.starts_at))[:BOOKMARK_LINES]
        events = sorted(main, key=lambda e: e.starts_at)
    return render_template("agenda/print.html", events=events, bookmark=bookmark, year=year, month=month)


@bp.route("/region")
def region():
    raw = request.args.get("year", "")
    year = int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else utcnow().astimezone(app_zone()).year
    return render_template("agenda/region.html", year=year, grouped=agenda.region_supported(db.session, year))


def _event_form(event=None) -> EventForm:
    form = EventForm(obj=event)
    form.departement.choices = departement_choices()
    form.themes.choices = [(str(t.id), t.name) for t in agenda.themes(db.session)]
    form.audiences.choices = [(k, str(v)) for k, v in agenda.AUDIENCES.items()]
    form.campaign.choices = [("", _("Aucune")), *[(k, str(v)) for k, v in agenda.CAMPAIGNS.items()]]
    if request.method == "GET" and event is not None:
        zone = app_zone()
        form.departement.data = event.departement_code
        form.themes.data = [str(t.id) for t in event.themes]
        form.audiences.data = event.audiences.split()
        form.campaign.data = event.campaign or ""
        form.starts_at.data = event.starts_at.astimezone(zone).replace(tzinfo=None)
        form.ends_at.data = event.ends_at.astimezone(zone).replace(tzinfo=None)
    return form


def _fields(form: EventForm) -> agenda.EventFields | None:
    starts_at, ends_at = read_local_datetime(form.starts_at), read_local_datetime(form.ends_at)
    if not (starts_at and ends_at):
        return None
    return agenda.EventFields(
        title=form.title.data,
        description=form.description.data or "",
        starts_at=starts_at,
        ends_at=ends_at,
        all_day=form.all_day.data,
        departement_code=form.departement.data,
        town=form.town.data,
        link=form.link.data or None,
        audiences=form.audiences.data or [],
        theme_ids=[int(v) for v in form.themes.data or []],
        region_supported=form.region_supported.data,
        campaign=form.campaign.data or None,
        organiser_name=form.organiser_name.data,
    )


@bp.route("/propose", methods=["GET", "POST"])
@login_required
def propose():
    form = _event_form()
    if form.validate_on_submit() and (fields := _fields(form)):
        try:
            event = agenda.propose(db.session, actor=current_user, fields=fields, now=utcnow())
        except DomainError as error:
            if not apply_domain_error(form, error):
                flash(error.message, "danger")
        else:
            published = event.status == "published"
            flash(
                _("Événement publié.") if published else _("Merci ! L'événement sera publié après relecture."),
                "success",
            )
            return redirect(url_for("agenda.detail", event_id=event.id))
    return render_template("agenda/form.html", form=form, event=None)


@bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
@login_required
def edit(event_id: int):
    event = agenda.get(db.session, event_id)
    if not agenda.can_moderate(current_user, event):
        abort(403)
    form = _event_form(event)
    if form.validate_on_submit() and (fields := _fields(form)):
        try:
            agenda.update(db.session, actor=current_user, event=event, fields=fields, now=utcnow())
        except DomainError as error:
            if not apply_domain_error(form, error):
                flash(error.message, "danger")
        else:
            flash(_("Événement enregistré."), "success")
            return redirect(url_for("agenda.detail", event_id=event.id))
    return render_template("agenda/form.html", form=form, event=event)


@bp.route("/moderation")
@login_required
def moderation():
    if not (current_user.is_admin or current_user.is_host):
        abort(403)
    return render_template(
        "agenda/moderation.html",
        events=agenda.to_moderate(db.session, current_user),
        confirm=ConfirmForm(),
        refuse_form=RefuseForm(),
    )


@bp.route("/<int:event_id>/publish", methods=["POST"])
@login_required
def publish(event_id: int):
    event = agenda.get(db.session, event_id)
    if ConfirmForm().validate_on_submit():
        agenda.publish(db.session, actor=current_user, event=event, now=utcnow())
        flash(_("Événement publié."), "success")
    if request.form.get("back") == "moderation":
        return redirect(url_for("agenda.moderation"))
    return redirect(url_for("agenda.detail", event_id=event_id))


@bp.route("/<int:event_id>/refuse", methods=["POST"])
@login_required
def refuse(event_id: int):
    event = agenda.get(db.session, event_id)
    form = RefuseForm()
    if form.validate_on_submit():
        agenda.refuse(db.session, actor=current_user, event=event, reason=form.reason.data, now=utcnow())
        flash(_("Événement refusé."), "success")
    else:
        flash(_("Indiquez le motif du refus."), "danger")
    return redirect(url_for("agenda.moderation"))


def feed_response():
    """/feeds/agenda.ics: same filters as the page; every published event of the coming year and the past month."""
    form = _filter_form()
    filters = _filters(form, None, None)
    now = utcnow()
    events = [
        e
        for e in db.session.scalars(agenda.public_events(filters, app_zone())).unique()
        if e.ends_at > now - feeds.KEEP_CANCELLED
    ]
    items = [feeds.agenda_item(e, domain(), link("agenda.detail", event_id=e.id)) for e in events]
    return ics_response(_("Agenda des sciences en Occitanie"), items, private=False)
