"""Field helpers shared by every form: trimmed text, no control characters, no markup."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.i18n import NonexistentLocalTime, from_local

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_IN_LINE = re.compile(r"[\x00-\x1f\x7f]")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ConfirmForm(FlaskForm):
    """A bare POST with its CSRF token, for one-click actions."""

    submit = SubmitField(_l("Confirmer"))


def no_control_characters(multiline: bool = False):
    pattern = _CONTROL if multiline else _CONTROL_IN_LINE

    def check(form, field):
        if field.data and pattern.search(field.data):
            raise ValidationError(_l("Ce champ contient des caractères non permis."))

    return check


def no_markup(form, field):
    if field.data and re.search(r"[<>]", field.data):
        raise ValidationError(_l("Les caractères < et > ne sont pas permis ici."))


def line_field(label, *, max_length: int = 120, required: bool = True, validators=(), **kwargs) -> StringField:
    """A one-line text field, trimmed, bounded, without control characters or markup."""
    return StringField(
        label,
        validators=[
            DataRequired() if required else Optional(),
            Length(max=max_length),
            no_control_characters(),
            no_markup,
            *validators,
        ],
        filters=[_strip],
        **kwargs,
    )


def text_field(label, *, max_length: int = 5000, required: bool = False, **kwargs) -> TextAreaField:
    """Several lines of plain text; shown escaped, so markup is harmless but control characters are not."""
    return TextAreaField(
        label,
        validators=[DataRequired() if required else Optional(), Length(max=max_length), no_control_characters(True)],
        filters=[_strip],
        **kwargs,
    )


def read_local_datetime(field):
    """The aware UTC instant of a date-time field entered in Paris time; None (with an error) when it cannot be."""
    if field.data is None:
        return None
    try:
        return from_local(field.data)
    except NonexistentLocalTime:
        field.errors = [*field.errors, _("Cette heure n'existe pas ce jour-là (changement d'heure).")]
        return None
