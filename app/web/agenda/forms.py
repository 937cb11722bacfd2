from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, SubmitField, URLField
from wtforms.validators import URL, Length, Optional

from app.web.admin.forms import MultiCheckboxField
from app.web.bookings.forms import end_field, start_field
from app.web.forms import line_field, no_control_characters, text_field


class AgendaFilterForm(FlaskForm):
    class Meta:
        csrf = False

    departement = SelectField(_l("Département"), validators=[Optional()], validate_choice=True)
    theme = SelectField(_l("Thème"), validators=[Optional()], validate_choice=True)
    audience = SelectField(_l("Public"), validators=[Optional()], validate_choice=True)
    campaign = SelectField(_l("Campagne"), validators=[Optional()], validate_choice=True)


class EventForm(FlaskForm):
    title = line_field(_l("Titre"), max_length=300)
    organiser_name = line_field(_l("Organisateur"), max_length=200)
    description = text_field(_l("Description"), max_length=5000)
    starts_at = start_field()
    ends_at = end_field()
    all_day = BooleanField(_l("Toute la journée"))
    departement = SelectField(_l("Département"), validate_choice=True)
    town = line_field(_l("Commune"), max_length=200)
    link = URLField(_l("Lien"), validators=[Optional(), Length(max=1000), URL(), no_control_characters()])
    themes = MultiCheckboxField(_l("Thèmes"), validate_choice=True)
    audiences = MultiCheckboxField(_l("Publics"), validate_choice=True)
    campaign = SelectField(_l("Campagne de presse"), validate_choice=True)
    region_supported = BooleanField(_l("Soutenu par la Région Occitanie"))
    submit = SubmitField(_l("Enregistrer"))


class RefuseForm(FlaskForm):
    reason = line_field(_l("Motif du refus"), max_length=500)
    submit = SubmitField(_l("Refuser"))


class SourceForm(FlaskForm):
    name = line_field(_l("Nom de la source"), max_length=160)
    url = URLField(
        _l("Adresse iCal publique (facultatif)"),
        validators=[Optional(), Length(max=1000), URL(), no_control_characters()],
    )
    departement = SelectField(_l("Département des événements"), validate_choice=True)
    trusted = BooleanField(_l("Source de confiance : publier sans modération"))
    submit = SubmitField(_l("Enregistrer la source"))


class UploadForm(FlaskForm):
    file = FileField(_l("Fichier .ics"), validators=[FileRequired()])
    submit = SubmitField(_l("Importer"))
