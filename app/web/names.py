"""Names admins type in French, with an English one beside (categories, training topics, agenda
themes), shown in the reader's language: the English field when the page is in English and it is
filled in, the French one otherwise."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import get_locale
from flask_babel import gettext as _

from app.services.places import in_departement_fr


def name_in(thing: Any, locale: str, *, plural: bool = False) -> str:
    """`thing`'s name in `locale`; an empty English field falls back to the French name."""
    if thing is None:
        return ""
    french = getattr(thing, "name_plural" if plural else "name", "") or ""
    if locale == "en":
        english = getattr(thing, "name_plural_en" if plural else "name_en", "") or ""
        return english or french
    return french


def named(thing: Any, plural: bool = False) -> str:
    """`thing`'s name in the language of the page being drawn."""
    return name_in(thing, str(get_locale() or "fr"), plural=plural)


def in_departement(code: str | None, name: str | None) -> str:
    """« dans l'Hérault » in French (the article and preposition of services/places.py), « in
    Hérault » in English."""
    if not code or not name:
        return ""
    if str(get_locale() or "fr") == "fr":
        return in_departement_fr(code, name)
    return _("en %(name)s", name=name)


def colon() -> str:
    """The colon after a label: French puts a non-breaking space before it, English none."""
    return "\u00a0:" if str(get_locale() or "fr") == "fr" else ":"


def register(app: Flask) -> None:
    # `{{ category|named }}`, `{{ category|named(plural=true) }}`
    app.jinja_env.filters["named"] = named
    app.jinja_env.globals.update(in_departement=in_departement, colon=colon)
