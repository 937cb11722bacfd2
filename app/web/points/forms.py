from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, FieldList, FormField, SubmitField, TimeField
from wtforms.validators import DataRequired, Email, Length, Optional

from app.web.forms import line_field, text_field


class PointForm(FlaskForm):
    name = line_field(_l("Nom du lieu"), max_length=120)
    address = text_field(_l("Adresse"), max_length=1000)
    access_notes = text_field(
        _l("Accès"), max_length=2000, description=_l("Étage, code, stationnement, accessibilité…")
    )
    phone = line_field(_l("Téléphone"), max_length=30, required=False)
    email = EmailField(_l("Adresse e-mail"), validators=[Optional(), Email(), Length(max=254)])
    submit = SubmitField(_l("Enregistrer"))


class DayHoursForm(FlaskForm):
    """One weekday: a morning and an afternoon span, each optional."""

    class Meta:
        csrf = False  # part of HoursForm, which carries the token

    opens_1 = TimeField(_l("Ouverture"), validators=[Optional()])
    closes_1 = TimeField(_l("Fermeture"), validators=[Optional()])
    opens_2 = TimeField(_l("Réouverture"), validators=[Optional()])
    closes_2 = TimeField(_l("Fermeture"), validators=[Optional()])


class HoursForm(FlaskForm):
    days = FieldList(FormField(DayHoursForm), min_entries=7, max_entries=7)
    submit = SubmitField(_l("Enregistrer les horaires"))


class ClosingDayForm(FlaskForm):
    day = DateField(_l("Jour fermé"), validators=[DataRequired()])
    reason = line_field(_l("Raison"), max_length=200, required=False)
    submit = SubmitField(_l("Ajouter"))


class NewPointForm(FlaskForm):
    name = line_field(_l("Nom du lieu"), max_length=120)
    submit = SubmitField(_l("Ajouter ce lieu"))
