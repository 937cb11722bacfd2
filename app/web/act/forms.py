"""The one button of a link's page, and the reason a refusal asks for."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField

from app.web.forms import line_field


class ApproveForm(FlaskForm):
    submit = SubmitField(_l("Valider"))


class ConfirmHoldForm(FlaskForm):
    submit = SubmitField(_l("Confirmer"))


class DeclineHoldForm(FlaskForm):
    submit = SubmitField(_l("Refuser ce créneau"))


class RejectForm(FlaskForm):
    reason = line_field(_l("Motif du refus"), max_length=500)
    submit = SubmitField(_l("Refuser"))
