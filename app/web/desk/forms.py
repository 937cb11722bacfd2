from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, SubmitField

from app.web.bookings.forms import end_field, start_field
from app.web.forms import line_field, text_field


class RejectForm(FlaskForm):
    reason = line_field(_l("Motif du refus"), max_length=500)
    submit = SubmitField(_l("Refuser"))


class PickupForm(FlaskForm):
    note = line_field(_l("Note (facultatif)"), max_length=500, required=False)
    submit = SubmitField(_l("Remis"))


class ReturnForm(FlaskForm):
    condition = RadioField(
        _l("État au retour"),
        choices=[("ok", _l("Complet, en bon état")), ("incomplete", _l("Incomplet")), ("damaged", _l("Abîmé"))],
        default="ok",
        validate_choice=True,
    )
    note = text_field(_l("Ce qui manque ou ce qui est abîmé"), max_length=2000)
    submit = SubmitField(_l("Rendu"))


class BlackoutForm(FlaskForm):
    resource = SelectField(_l("Ce qui ferme"), validate_choice=True)
    starts_at = start_field()
    ends_at = end_field()
    reason = line_field(_l("Raison (montrée aux membres)"), max_length=200)
    submit = SubmitField(_l("Fermer cette période"))
