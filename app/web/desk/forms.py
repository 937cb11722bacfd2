from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, SelectField, SelectMultipleField, SubmitField

from app.web.bookings.forms import end_field, start_field
from app.web.forms import line_field, text_field

CONDITIONS = [("ok", _l("Complet, en bon état")), ("incomplete", _l("Incomplet")), ("damaged", _l("Abîmé"))]


class RejectForm(FlaskForm):
    reason = line_field(_l("Motif du refus"), max_length=500)
    submit = SubmitField(_l("Refuser"))


class HandoverForm(FlaskForm):
    """What the host saw: the contents lines ticked, the condition, a note, a photo.

    The lines are the item's own; the service refuses one that is not (the choices are not
    known to the form)."""

    checked = SelectMultipleField(_l("Contenu"), choices=[], validate_choice=False)
    condition = RadioField(_l("État"), choices=CONDITIONS, default="ok", validate_choice=True)
    note = text_field(_l("Ce qui manque ou ce qui est abîmé"), max_length=2000)
    photo = FileField(_l("Photo (facultatif)"))


class PickupForm(HandoverForm):
    submit = SubmitField(_l("Remis"))


class ReturnForm(HandoverForm):
    submit = SubmitField(_l("Rendu"))


class BlackoutForm(FlaskForm):
    resource = SelectField(_l("Ce qui ferme"), validate_choice=True)
    starts_at = start_field()
    ends_at = end_field()
    reason = line_field(_l("Raison (montrée aux membres)"), max_length=200)
    submit = SubmitField(_l("Fermer cette période"))
