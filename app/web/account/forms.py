from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from app.web.admin.forms import MultiCheckboxField
from app.web.auth.forms import new_password_fields
from app.web.forms import line_field


class ProfileForm(FlaskForm):
    display_name = line_field(_l("Nom et prénom"), max_length=120, render_kw={"autocomplete": "name"})
    phone = line_field(
        _l("Téléphone"),
        max_length=30,
        required=False,
        validators=[Optional(), Regexp(r"^[0-9 +().-]{6,30}$", message=_l("Numéro de téléphone non valide."))],
    )
    organisation = SelectField(_l("Structure"), coerce=int, validate_choice=True)
    departement = SelectField(_l("Département"), validate_choice=True)
    reminders = MultiCheckboxField(_l("Rappels par e-mail que je veux recevoir"), validate_choice=True)
    locale = SelectField(_l("Langue"), choices=[("fr", "Français"), ("en", "English")], validate_choice=True)
    submit = SubmitField(_l("Enregistrer"))


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        _l("Mot de passe actuel"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    password, confirm = new_password_fields()
    submit = SubmitField(_l("Changer le mot de passe"))


class ApiTokenForm(FlaskForm):
    name = line_field(
        _l("Nom du jeton"),
        max_length=80,
        description=_l("Le script ou le site qui l'utilisera, pour le reconnaître (ex. « site de l'association »)."),
    )
    submit = SubmitField(_l("Créer un jeton"))
