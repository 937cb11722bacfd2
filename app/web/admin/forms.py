from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, SelectMultipleField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput

from app.web.forms import line_field, no_control_characters, text_field


class CheckboxGroup:
    """Each choice as a Bootstrap check box, one under the other: WTForms' ListWidget draws a
    bulleted list, and the form-control class Bootstrap-Flask hands every field would frame
    the group like a text box."""

    def __call__(self, field, **kwargs):
        rows = [
            Markup('<div class="form-check">{} {}</div>').format(
                option(class_="form-check-input"), option.label(class_="form-check-label")
            )
            for option in field
        ]
        return Markup('<div role="group" id="{}">{}</div>').format(kwargs.get("id", field.id), Markup("").join(rows))


class MultiCheckboxField(SelectMultipleField):
    widget = CheckboxGroup()
    option_widget = CheckboxInput()


class RolesForm(FlaskForm):
    roles = MultiCheckboxField(
        _l("Rôles"),
        choices=[
            ("host", _l("Hôte départemental")),
            ("trainer", _l("Formateur·rice")),
            ("admin", _l("Administrateur")),
        ],
        validate_choice=True,
    )
    host_departements = MultiCheckboxField(_l("Départements dont la personne est hôte"), validate_choice=True)
    submit = SubmitField(_l("Enregistrer les rôles"))


UNITS = [("hours", _l("heures")), ("days", _l("jours"))]


def english_name_field(label):
    return line_field(label, max_length=80, required=False, description=_l("Vide : le nom français est montré."))


class CategoryForm(FlaskForm):
    name = line_field(_l("Nom"), max_length=80)
    name_plural = line_field(_l("Nom au pluriel"), max_length=80)
    name_en = english_name_field(_l("Nom en anglais"))
    name_plural_en = english_name_field(_l("Nom au pluriel en anglais"))
    description = text_field(_l("Description"), max_length=2000)
    needs_pickup = BooleanField(_l("Objet physique (retrait et retour chez l'hôte)"), default=True)
    needs_approval = BooleanField(_l("La réservation doit être validée par l'hôte"), default=True)
    # Durations in hours or in days, as the admin thinks of the rule; stored in hours.
    max_duration = IntegerField(
        _l("Durée maximale"), validators=[DataRequired(), NumberRange(min=1, max=24 * 90)], default=7
    )
    max_duration_unit = SelectField(_l("Unité de la durée maximale"), choices=UNITS, default="days")
    min_lead = IntegerField(
        _l("Délai minimal avant le début"),
        validators=[Optional(), NumberRange(min=0, max=24 * 60)],
        default=1,
    )
    min_lead_unit = SelectField(_l("Unité du délai minimal"), choices=UNITS, default="days")
    max_advance_days = IntegerField(
        _l("Réservable jusqu'à (jours à l'avance)"),
        validators=[DataRequired(), NumberRange(min=1, max=730)],
        default=180,
    )
    buffer_hours = IntegerField(
        _l("Battement après chaque réservation (heures)"),
        validators=[Optional(), NumberRange(min=0, max=24 * 14)],
        default=0,
    )
    per_member_limit = IntegerField(
        _l("Réservations actives simultanées par membre (vide : sans limite)"),
        validators=[Optional(), NumberRange(min=1, max=100)],
    )
    release_after_minutes = IntegerField(
        _l("Comptes en ligne : libérer la réservation après (minutes depuis son début)"),
        validators=[Optional(), NumberRange(min=1, max=24 * 60)],
        description=_l(
            "Si les identifiants n'ont pas été affichés. Vide : jamais libérée. Sans effet pour les objets physiques."
        ),
        default=30,
    )
    no_show_limit = IntegerField(
        _l("Validation par l'hôte après ce nombre de non-retraits (vide : pas de règle)"),
        validators=[Optional(), NumberRange(min=1, max=100)],
    )
    no_show_window_days = IntegerField(
        _l("Non-retraits comptés sur les derniers (jours)"),
        validators=[Optional(), NumberRange(min=1, max=730)],
        default=180,
    )
    submit = SubmitField(_l("Enregistrer"))


class ResourceForm(FlaskForm):
    name = line_field(_l("Nom"), max_length=120)
    category = SelectField(_l("Catégorie"), validators=[DataRequired()], validate_choice=True)
    departement = SelectField(_l("Département où elle est stockée"), validators=[DataRequired()], validate_choice=True)
    description = text_field(_l("Description"), max_length=5000)
    pickup_point = SelectField(
        _l("Lieu de retrait (objets physiques)"),
        validate_choice=True,
        default="",
        description=_l("Vide : le stock du département."),
    )
    contents = text_field(
        _l("Contenu, une ligne par élément (vérifié au retrait et au retour)"),
        max_length=2000,
        description=_l("Par exemple : caméra, 2 batteries, chargeur, carte SD 64 Go"),
    )
    account_login = line_field(_l("Identifiant du compte (comptes partagés seulement)"), max_length=200, required=False)
    account_password = PasswordField(
        _l("Mot de passe du compte (laisser vide pour ne pas le changer)"),
        validators=[Optional(), Length(max=200), no_control_characters()],
    )
    submit = SubmitField(_l("Enregistrer"))


class TopicNamesForm(FlaskForm):
    """A training topic, with its English name beside the French one."""

    name = line_field(_l("Nom"), max_length=120)
    name_en = line_field(
        _l("Nom en anglais"), max_length=120, required=False, description=_l("Vide : le nom français est montré.")
    )
    description = text_field(_l("Description"), max_length=2000)
    submit = SubmitField(_l("Enregistrer"))


class ThemeNamesForm(FlaskForm):
    """The English names of the agenda's themes, one field per theme (added by the view)."""

    submit = SubmitField(_l("Enregistrer"))
