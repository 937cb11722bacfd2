"""« Prévenez-moi si cela se libère »: the refused request, carried in hidden fields."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, HiddenField, SubmitField
from wtforms.validators import InputRequired, Length, Optional, Regexp
from wtforms.widgets import HiddenInput

from app.web.forms import DATETIME_FORMAT


class WishForm(FlaskForm):
    resource = HiddenField(validators=[Optional(), Regexp(r"^\d{1,9}$")])
    category = HiddenField(validators=[Optional(), Regexp(r"^\d{1,9}$")])
    departement = HiddenField(validators=[Optional(), Length(max=3)])
    starts_at = DateTimeLocalField(format=DATETIME_FORMAT, widget=HiddenInput(), validators=[InputRequired()])
    ends_at = DateTimeLocalField(format=DATETIME_FORMAT, widget=HiddenInput(), validators=[InputRequired()])
    purpose = HiddenField(validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Prévenez-moi si cela se libère"))
