"""The home page."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import func, select

from app.extensions import db
from app.models import Category, Resource

bp = Blueprint("main", __name__)


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
