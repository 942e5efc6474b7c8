from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from surveys.accounts.models import ROLES
from surveys.campaigns.models import SURVEY_KINDS
from surveys.reasons.cover import STRONG
from surveys.reasons.nlp.labels import LANGUAGES

ANY = SelectChoice("", "any")


class ReasonFilterForm(FlaskForm):
    """The CX page's filters, read from the query string."""

    class Meta:
        csrf = False  # a GET that changes nothing

    since = DateField("From", validators=[Optional()])
    until = DateField("Until", validators=[Optional()])
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
