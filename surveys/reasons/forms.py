import re
from datetime import date

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from surveys.accounts.models import ROLES
from surveys.campaigns.models import SURVEY_KINDS
from surveys.reasons.cover import STRONG
from surveys.reasons.nlp.labels import LANGUAGES

ANY = SelectChoice("", "any")
# The dates a filter may name: wide enough for any report, narrow enough that "the whole of
# the last day" and the windows around it stay inside what dates and databases can hold.
FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(2999, 12, 31)
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class ISODateField(DateField):
    """A date written as 2026-03-31 in ASCII digits, between FIRST_DATE and LAST_DATE."""

    def process_formdata(self, valuelist: list[str]) -> None:
        if valuelist and valuelist[0] and not ISO_DATE.fullmatch(valuelist[0]):
            self.data = None
            raise ValueError(f"{valuelist[0][:40]!r} is not a date like 2026-03-31.")
        super().process_formdata(valuelist)

    def post_validate(self, form: FlaskForm, validation_stopped: bool) -> None:
        if self.data and not FIRST_DATE <= self.data <= LAST_DATE:
            self.errors.append(f"Choose a date from {FIRST_DATE} to {LAST_DATE}.")


class ReasonFilterForm(FlaskForm):
    """The CX page's filters, read from the query string."""

    class Meta:
        csrf = False  # a GET that changes nothing

    since = ISODateField("From", validators=[Optional()])
    until = ISODateField("Until", validators=[Optional()])
    segment = SelectField("Segment", choices=[ANY], default="", validate_choice=False)
    role = SelectField(
        "Role",
        choices=[ANY, *(SelectChoice(role, role.replace("_", " ")) for role in ROLES)],
        default="",
    )
    language = SelectField(
        "Language",
        choices=[ANY, *(SelectChoice(language) for language in LANGUAGES)],
        default="",
    )
    kind = SelectField(
        "Survey", choices=[ANY, *(SelectChoice(kind) for kind in SURVEY_KINDS)], default=""
    )
    # A price-as-cover verdict on one source can be one misread sentence.
    min_signals = SelectField(
        "Price-as-cover verdicts",
        choices=[
            SelectChoice("", "all"),
            SelectChoice(str(STRONG), f"only on at least {STRONG} signals"),
            SelectChoice(str(STRONG + 1), f"only on at least {STRONG + 1} signals"),
        ],
        default="",
    )

    def validate_until(self, field: DateField) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("The end of the period is before its start.")
