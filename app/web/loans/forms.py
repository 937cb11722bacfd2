from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField
from wtforms.validators import DataRequired, Regexp


class ReceiptForm(FlaskForm):
    """The borrower's « I confirm »: which handover record, and where to go back to."""

    # Nine digits at most: any id the database can hold (below 2³¹), never an overflow.
    handover = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9]{1,9}$")])
    back = HiddenField()
    submit = SubmitField(_l("Je confirme"))
