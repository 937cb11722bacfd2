"""Defining a kit (name, département, up to eight lines) and booking one (period, purpose)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, IntegerField, SelectField, SubmitField
from wtforms.validators import NumberRange, Optional

from app.services.kits import MAX_LINES, MAX_QUANTITY
from app.web.bookings.forms import end_field, start_field
from app.web.forms import line_field, text_field


class LineForm(Form):
    """One line: a given item, or a category and how many of its units (leave both empty to skip)."""

    # Checked by the service (a clear message), not by WTForms: absent lines post nothing.
    item = SelectField(_l("Objet précis"), validate_choice=False)
    category = SelectField(_l("ou une catégorie"), validate_choice=False)
    quantity = IntegerField(
        _l("Nombre"), default=1, validators=[Optional(), NumberRange(min=1, max=MAX_QUANTITY)], render_kw={"min": 1}
    )


class KitForm(FlaskForm):
    name = line_field(_l("Nom du kit"), max_length=120)
    description = text_field(_l("Description"), max_length=2000)
    departement = SelectField(
        _l("Gardé dans le département"),
        validate_choice=True,
        description=_l("Laissez « Tous » pour prendre les exemplaires les plus proches du membre."),
    )
    lines = FieldList(FormField(LineForm), min_entries=MAX_LINES, max_entries=MAX_LINES)
    submit = SubmitField(_l("Enregistrer le kit"))


class KitBookingForm(FlaskForm):
    starts_at = start_field()
    ends_at = end_field()
    purpose = text_field(
        _l("Pour quoi faire ?"),
        max_length=500,
        description=_l("Visible seulement par vous, l'hôte et la coordination."),
    )
    submit = SubmitField(_l("Réserver le kit"))


class KitDatesForm(FlaskForm):
    starts_at = start_field()
    ends_at = end_field()
    submit = SubmitField(_l("Déplacer tout le kit"))
