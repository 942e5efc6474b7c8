from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from surveys.accounts.forms import note_field
from surveys.followups.services import STATE_FILTERS
from surveys.reasons.forms import ISODateField


class ContactedForm(FlaskForm):
    note = note_field("Note (optional): what was said, what happens next")


class ResolveForm(FlaskForm):
    note = note_field("Note (optional): how it was resolved")


class FollowUpFilterForm(FlaskForm):
    """The list's filters, read from the query string."""

    class Meta:
        csrf = False  # a GET that changes nothing

    state = SelectField(
        "State",
        choices=[
            SelectChoice("open", "open (not contacted)"),
            SelectChoice("contacted", "contacted"),
            SelectChoice("resolved", "resolved"),
            SelectChoice("unresolved", "open or contacted"),
            SelectChoice("all", "all"),
        ],
        default="open",
    )
    overdue = BooleanField("Overdue only")
    manager = SelectField("Manager", choices=[SelectChoice("", "any")], default="")
    account = StringField("Account id", validators=[Optional(), Length(max=64)])
    since = ISODateField("Opened from", validators=[Optional()])
    until = ISODateField("Opened until", validators=[Optional()])

    def validate_state(self, field: SelectField) -> None:
        if field.data not in STATE_FILTERS:
            raise ValidationError("Choose one of the states listed.")

    def validate_until(self, field: ISODateField) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("The end of the period is before its start.")


class PeriodForm(FlaskForm):
    """The first-contact times' period, read from the query string."""

    class Meta:
        csrf = False

    since = ISODateField("Opened from", validators=[Optional()])
    until = ISODateField("Opened until", validators=[Optional()])

    def validate_until(self, field: ISODateField) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("The end of the period is before its start.")
