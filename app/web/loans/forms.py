from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField
from wtforms.validators import DataRequired, Regexp


class ReceiptForm(FlaskForm):
    """The borrower's « I confirm »: which handover record, and where to go back to."""

    handover = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9]{1,12}$")])
    back = HiddenField()
    submit = SubmitField(_l("Je confirme"))
