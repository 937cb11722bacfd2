"""The home page, and each person's own page after logging in."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template
from flask_login import login_required
from markupsafe import Markup
from sqlalchemy import func, select

from app import entry
from app.extensions import db
from app.i18n import app_zone, utcnow
from app.models import Category, Resource
from app.services import home as homes
from app.services import markdown

bp = Blueprint("main", __name__)


@bp.app_template_filter("markdown")
def markdown_filter(text: str | None) -> Markup:
    """Written text (an agenda event's description) as safe HTML, as training descriptions are shown."""
    return markdown.render(text or "")


@bp.app_template_global("local_today")
def local_today() -> date:
    """Today where the network is (the test clock when one is set): calendars offer no day before it."""
    return utcnow().astimezone(app_zone()).date()


@bp.route("/")
def home():
    counts = db.session.execute(
        select(Category, func.count(Resource.id))
        .join(Resource, Resource.category_id == Category.id)
        .where(Resource.retired_at.is_(None), Category.retired_at.is_(None))
        .group_by(Category.id)
        .order_by(Category.name)
    ).all()
    return render_template("main/home.html", counts=counts)


@bp.route("/home")
@login_required
def mine():
    """What is the person's to do or to expect: their bookings and trainings, and their roles' lists."""
    return render_template("main/mine.html", home=homes.for_person(db.session, entry.for_request()))
