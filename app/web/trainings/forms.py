from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, IntegerField, RadioField, SelectField, SubmitField, URLField
from wtforms.validators import URL, InputRequired, Length, NumberRange, Optional

from app.web.admin.forms import MultiCheckboxField
from app.web.bookings.forms import DATETIME_FORMAT, end_field, start_field
from app.web.forms import line_field, no_control_characters, text_field


class TrainingFilterForm(FlaskForm):
    class Meta:
        csrf = False

    topic = SelectField(_l("Thème"), validators=[Optional()], validate_choice=True)
    mode = SelectField(
        _l("Format"),
        choices=[("", _l("Tous")), ("online", _l("En ligne")), ("in_person", _l("Sur place"))],
        validators=[Optional()],
        validate_choice=True,
    )
    departement = SelectField(_l("Département"), validators=[Optional()], validate_choice=True)


class SessionForm(FlaskForm):
    topic = SelectField(_l("Thème"), validate_choice=True)
    title = line_field(_l("Titre"), max_length=160)
    description = text_field(_l("Description (Markdown)"), max_length=20000)
    level = SelectField(
        _l("Niveau"), choices=[("beginner", _l("Débutant")), ("advanced", _l("Confirmé"))], validate_choice=True
    )
    starts_at = start_field()
    ends_at = end_field()
    mode = RadioField(
        _l("Format"),
        choices=[("online", _l("En ligne")), ("in_person", _l("Sur place"))],
        default="online",
        validate_choice=True,
    )
    video_link = URLField(
        _l("Lien de visio (montré aux seules personnes inscrites)"),
        validators=[Optional(), Length(max=500), URL(require_tld=False), no_control_characters()],
    )
    place = line_field(_l("Lieu"), max_length=200, required=False)
    departement = SelectField(_l("Département du lieu"), validate_choice=True)
    capacity = IntegerField(_l("Places"), validators=[InputRequired(), NumberRange(min=1, max=1000)])
    registration_opens_at = DateTimeLocalField(
        _l("Ouverture des inscriptions (facultatif)"), format=DATETIME_FORMAT, validators=[Optional()]
    )
    registration_deadline = DateTimeLocalField(
        _l("Clôture des inscriptions"), format=DATETIME_FORMAT, validators=[InputRequired()]
    )
    advised = MultiCheckboxField(_l("Matériel conseillé (à apporter ou à réserver)"), validate_choice=True)
    submit = SubmitField(_l("Enregistrer la session"))


class CancelSessionForm(FlaskForm):
    reason = line_field(_l("Motif de l'annulation (envoyé aux participant·es)"), max_length=500)
    submit = SubmitField(_l("Annuler la session"))


class MessageForm(FlaskForm):
    subject = line_field(_l("Objet"), max_length=200)
    body = text_field(_l("Message"), max_length=5000, required=True)
    submit = SubmitField(_l("Envoyer aux inscrit·es"))
