from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, SelectField
from wtforms.validators import Optional

from app.web.forms import line_field


class ResourceFilterForm(FlaskForm):
    """The catalogue's filters: a GET form, so no CSRF token (it changes nothing)."""

    class Meta:
        csrf = False

    q = line_field(_l("Recherche"), max_length=80, required=False)
    category = SelectField(_l("Catégorie"), validators=[Optional()], validate_choice=True)
    departement = SelectField(_l("Département"), validators=[Optional()], validate_choice=True)
    free_from = DateTimeLocalField(_l("Libre du"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    free_until = DateTimeLocalField(_l("au"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
