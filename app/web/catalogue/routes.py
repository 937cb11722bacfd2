"""The public catalogue of what can be booked, and each resource's month calendar."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, current_app, flash, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_sqlalchemy.pagination import Pagination

from app import entry
from app.extensions import db
from app.i18n import app_zone, utcnow
from app.models import Departement
from app.services import availability, catalogue
from app.services import calendar as cal
from app.services import history as history_svc
from app.services.errors import DomainError
from app.web.acting import refuse
from app.web.calendars import resource_month
from app.web.catalogue.forms import ResourceFilterForm
from app.web.choices import category_choices, departement_choices
from app.web.forms import read_local_datetime
from app.web.pagination import current_page

bp = Blueprint("catalogue", __name__)


class CountedPage(Pagination):
    """A page whose items and total the service has already read, in one query, for the pager."""

    def _query_items(self) -> list[Any]:
        return list(self._query_args["items"])

    def _query_count(self) -> int:
        return int(self._query_args["total"])


def _criteria(form: ResourceFilterForm) -> catalogue.ResourceFilter | None:
    if not form.validate():
        return None
    free_from = free_until = None
    if bool(form.free_from.data) != bool(form.free_until.data):
        form.free_until.errors = [*form.free_until.errors, _("Indiquez le début et la fin de la période.")]
        return None
    if form.free_from.data:
        free_from, free_until = read_local_datetime(form.free_from), read_local_datetime(form.free_until)
        if free_from is None or free_until is None:
            return None
    return catalogue.ResourceFilter(
        category_id=int(form.category.data) if form.category.data else None,
        departement_code=form.departement.data or None,
        free_from=free_from,
        free_until=free_until,
        text=form.q.data or None,
    )


@bp.route("/resources")
def index():
    form = ResourceFilterForm(request.args)
    form.category.choices = category_choices(blank=_("Toutes"))
    form.departement.choices = departement_choices(blank=_("Tous"))
    pagination = None
    criteria = _criteria(form)
    if criteria is not None:
        try:
            page, per_page = current_page(), current_app.config["PER_PAGE"]
            items, total = catalogue.search_page(db.session, criteria, page=page, per_page=per_page)
            pagination = CountedPage(
                page=page, per_page=per_page, max_per_page=None, error_out=False, items=items, total=total
            )
        except DomainError as error:
            refuse(error, form)
    return render_template("catalogue/index.html", form=form, pagination=pagination)


@bp.route("/resources/<int:resource_id>")
def detail(resource_id: int):
    resource = catalogue.get_resource(db.session, resource_id)
    if resource.is_retired and not (current_user.is_authenticated and current_user.is_admin):
        abort(404)
    history = history_svc.for_reader(db.session, entry.for_request(), subject_type="resource", subject_id=resource.id)
    return render_template("catalogue/detail.html", resource=resource, history=history, **resource_month(resource))


@bp.route("/departements/<dept:code>/week")
def week(code: str):
    """Every resource stored in a département, one row each, over a week (Monday first)."""
    departement = db.session.get(Departement, code)
    if departement is None:
        abort(404)
    zone = app_zone()
    today = utcnow().astimezone(zone).date()
    asked = cal.week_start(request.args.get("start"), today)
    if asked is None:
        flash(_("Date non valide : indiquez-la sous la forme AAAA-MM-JJ. Voici la semaine en cours."), "warning")
    monday = asked or today - timedelta(days=today.weekday())
    start, end = cal.week_bounds(monday, zone)
    resources = list(
        db.session.scalars(catalogue.search(db.session, catalogue.ResourceFilter(departement_code=code))).unique()
    )
    with_names = availability.holders_visible_to(current_user, code)
    periods = availability.busy_periods_by_resource(db.session, resources, start, end, with_names=with_names)
    viewer_id = current_user.id if current_user.is_authenticated else None
    days = [monday + timedelta(days=i) for i in range(7)]
    rows = [(r, [cal.day_segments(d, zone, periods[r.id], viewer_id) for d in days]) for r in resources]
    return render_template(
        "catalogue/week.html",
        departement=departement,
        days=days,
        rows=rows,
        today=today,
        previous_week=(monday - timedelta(days=7)).isoformat(),
        next_week=(monday + timedelta(days=7)).isoformat(),
    )
