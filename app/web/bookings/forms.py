from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, SelectField, SubmitField
from wtforms.validators import DataRequired, InputRequired

from app.web.forms import DATETIME_FORMAT, text_field


def start_field():
    return DateTimeLocalField(_l("Début"), format=DATETIME_FORMAT, validators=[InputRequired()])


def end_field(label=None):
    return DateTimeLocalField(label or _l("Fin"), format=DATETIME_FORMAT, validators=[InputRequired()])


class PeriodForm(FlaskForm):
    starts_at = start_field()
    ends_at = end_field()
    submit = SubmitField(_l("Enregistrer les dates"))


class BookingForm(FlaskForm):
    starts_at = start_field()
    ends_at = end_field()
    purpose = text_field(
        _l("Pour quoi faire ?"),
        max_length=500,
        description=_l("Visible seulement par vous, l'hôte et la coordination."),
    )
    submit = SubmitField(_l("Réserver"))


class KitForm(FlaskForm):
    category = SelectField(_l("Que vous faut-il ?"), validators=[DataRequired()], validate_choice=True)
    departement = SelectField(_l("De préférence dans le département"), validate_choice=True)
    starts_at = start_field()
    ends_at = end_field()
    purpose = text_field(_l("Pour quoi faire ?"), max_length=500)
    submit = SubmitField(_l("Trouver et réserver"))


class ExtendForm(FlaskForm):
    ends_at = end_field(_l("Nouvelle fin"))
    submit = SubmitField(_l("Prolonger"))
