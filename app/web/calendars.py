"""The month a page shows, read from `?month=YYYY-MM`, and a resource's month calendar."""

from __future__ import annotations

from flask import flash, request
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.i18n import app_zone, utcnow
from app.models import Resource
from app.services import availability
from app.services import calendar as cal


def requested_month() -> tuple[int, int]:
    """The month asked for, or this month (saying so) when the value is not a month."""
    today = utcnow().astimezone(app_zone()).date()
    month = cal.parse_month(request.args.get("month"), today)
    if month is None:
        flash(_("Mois non valide : indiquez-le sous la forme AAAA-MM. Voici le mois en cours."), "warning")
        return today.year, today.month
    return month


def resource_month(resource: Resource) -> dict:
    """What macros/calendar.html needs to draw a resource's busy month for the current viewer."""
    zone = app_zone()
    year, month = requested_month()
    start, end = cal.grid_bounds(year, month, zone)
    periods = availability.busy_periods(db.session, resource, start, end)
    viewer_id = current_user.id if current_user.is_authenticated else None
    today = utcnow().astimezone(zone).date()
    return {
        "weeks": cal.month_grid(year, month, zone, periods, today=today, viewer_id=viewer_id),
        "year": year,
        "month": month,
        "previous_month": cal.shift_month(year, month, -1),
        "next_month": cal.shift_month(year, month, 1),
    }
