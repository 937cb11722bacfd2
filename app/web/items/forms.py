"""Forms of an item's life: out of service, its repair log, another unit instead."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField
from wtforms.validators import DataRequired, Regexp

from app.services.maintenance import REASON_MAX
from app.web.forms import text_field


class OutOfServiceForm(FlaskForm):
    reason = text_field(
        _l("Pourquoi (montré aux personnes qui l'ont réservé)"),
        max_length=REASON_MAX,
        required=True,
        render_kw={"rows": 3},
    )
    submit = SubmitField(_l("Mettre hors service"))


class RepairNoteForm(FlaskForm):
    note = text_field(_l("Ce qui a été fait ou constaté"), max_length=2000, required=True, render_kw={"rows": 2})
    submit = SubmitField(_l("Ajouter au carnet de réparation"))


class SwapForm(FlaskForm):
    """One tap on one alternative: the unit's id travels in the form."""

    resource = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9]{1,9}$")])
    submit = SubmitField(_l("Prendre celui-ci"))
