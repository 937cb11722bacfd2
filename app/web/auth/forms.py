from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from app.services.accounts import MIN_PASSWORD_LENGTH
from app.web.forms import line_field, no_control_characters


def email_field():
    return EmailField(
        _l("Adresse e-mail"),
        validators=[DataRequired(), Length(max=254), no_control_characters(), Email(check_deliverability=False)],
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        render_kw={"autocomplete": "email"},
    )


def new_password_fields():
    password = PasswordField(
        _l("Mot de passe"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)],
        description=_l("Au moins %(n)d caractères.", n=MIN_PASSWORD_LENGTH),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Confirmez le mot de passe"),
        validators=[DataRequired(), EqualTo("password", message=_l("Les deux mots de passe diffèrent."))],
        render_kw={"autocomplete": "new-password"},
    )
    return password, confirm


class LoginForm(FlaskForm):
    email = email_field()
    password = PasswordField(
        _l("Mot de passe"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Rester connecté"))
    submit = SubmitField(_l("Se connecter"))


class RegisterForm(FlaskForm):
    email = email_field()
    display_name = line_field(_l("Nom et prénom"), max_length=120, render_kw={"autocomplete": "name"})
    organisation = SelectField(_l("Structure"), coerce=int, validate_choice=True)
    new_organisation = line_field(
        _l("Votre structure n'est pas dans la liste ? Son nom"),
        max_length=160,
        required=False,
        description=_l("Un administrateur la confirmera en validant votre compte."),
    )
    departement = SelectField(_l("Département"), validate_choice=True)
    password, confirm = new_password_fields()
    consent = BooleanField(
        _l("J'accepte que La Malle garde les données de ce formulaire pour gérer mes réservations et inscriptions."),
        validators=[DataRequired(message=_l("Cochez cette case pour créer votre compte."))],
        description=_l("Voir la page « Confidentialité » : ce qui est gardé, qui le voit, comment tout supprimer."),
    )
    submit = SubmitField(_l("Créer mon compte"))


class ForgotPasswordForm(FlaskForm):
    email = email_field()
    submit = SubmitField(_l("Recevoir un lien"))


class ResetPasswordForm(FlaskForm):
    password, confirm = new_password_fields()
    submit = SubmitField(_l("Choisir ce mot de passe"))
