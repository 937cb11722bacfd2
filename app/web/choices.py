"""Choices for select fields, read from the database."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import Category, Departement, Organisation
from app.web.names import named


def departement_choices(blank: str | None = None) -> list[tuple[str, str]]:
    rows = db.session.scalars(select(Departement).order_by(Departement.code))
    choices = [(d.code, d.label) for d in rows]
    return [("", blank), *choices] if blank is not None else choices


def organisation_choices() -> list[tuple[int, str]]:
    rows = db.session.scalars(select(Organisation).order_by(Organisation.name))
    return [(0, _("— Aucune / autre —")), *[(o.id, o.name) for o in rows]]


def category_choices(blank: str | None = None, include_retired: bool = False) -> list[tuple[str, str]]:
    query = select(Category).order_by(Category.name)
    if not include_retired:
        query = query.where(Category.retired_at.is_(None))
    choices = [(str(c.id), named(c)) for c in db.session.scalars(query)]
    return [("", blank), *choices] if blank is not None else choices
