"""A booking or a training session, plus how it repeats."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, SubmitField
from wtforms.validators import InputRequired, Optional

from app.models import Recurrence
from app.services.series import SCOPES
from app.web.bookings.forms import end_field, start_field
from app.web.forms import text_field
from app.web.trainings.forms import SessionForm


def recurrence_field() -> SelectField:
    return SelectField(
        _l("Répéter"),
        choices=[(r.value, r.label) for r in Recurrence],
        default=Recurrence.WEEKLY.value,
        validate_choice=True,
    )


def interval_field() -> IntegerField:
    # Bounds are the service's (a clear message next to the field), not the browser's.
    return IntegerField(
        _l("Toutes les … (semaines ou mois)"), default=1, validators=[InputRequired()], render_kw={"min": 1}
    )


def until_field() -> DateField:
    return DateField(
        _l("Jusqu'au (inclus)"),
        validators=[Optional()],
        description=_l("Une date de fin, ou un nombre de fois ci-dessous."),
    )


def count_field() -> IntegerField:
    return IntegerField(_l("Nombre de fois"), validators=[Optional()], render_kw={"min": 1})


class SeriesForm(FlaskForm):
    starts_at = start_field()
    ends_at = end_field()
    recurrence = recurrence_field()
    interval = interval_field()
    until = until_field()
    count = count_field()
    purpose = text_field(
        _l("Pour quoi faire ?"),
        max_length=500,
        description=_l("Visible seulement par vous, l'hôte et la coordination."),
    )
    preview = SubmitField(_l("Aperçu"))
    # Drawn by the page, with the number of free dates in its label.
    book = SubmitField(_l("Réserver"))


class TrainingSeriesForm(SessionForm):
    recurrence = recurrence_field()
    interval = interval_field()
    until = until_field()
    count = count_field()
    # Declared again so that it comes after the fields above.
    submit = SubmitField(_l("Créer les sessions"))


class CancelInSeriesForm(FlaskForm):
    booking = HiddenField(validators=[InputRequired()])
    scope = SelectField(choices=[(s, s) for s in SCOPES], validate_choice=True)
