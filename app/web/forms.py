"""Field helpers shared by every form: trimmed text, no control characters, no markup."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.i18n import EARLIEST_YEAR, LATEST_YEAR, NonexistentLocalTime, OutOfRangeTime, from_local

# How a browser's datetime-local field, and an address pre-filling one, write a wall-clock time.
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
CONTROL_IN_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ConfirmForm(FlaskForm):
    """A bare POST with its CSRF token, for one-click actions."""

    submit = SubmitField(_l("Confirmer"))


def no_control_characters(multiline: bool = False):
    pattern = CONTROL if multiline else CONTROL_IN_LINE

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
    except OutOfRangeTime:
        field.errors = [
            *field.errors,
            _("Choisissez une date entre %(first)d et %(last)d.", first=EARLIEST_YEAR, last=LATEST_YEAR),
        ]
        return None


def read_local_period(form: Any) -> tuple[datetime, datetime] | None:
    """The form's starts_at and ends_at as UTC instants; None (each field with its error) when not both."""
    starts_at = read_local_datetime(form.starts_at)
    ends_at = read_local_datetime(form.ends_at)
    return (starts_at, ends_at) if starts_at and ends_at else None


def wall_clock_from_address(raw: str | None) -> datetime | None:
    """A wall-clock time given in the address (`?start=2027-01-13T16:00`, a proposed slot), as a
    date-time field holds it; None when it is not one."""
    if not raw or len(raw) > 16:
        return None
    try:
        return datetime.strptime(raw, DATETIME_FORMAT)
    except ValueError:
        return None
