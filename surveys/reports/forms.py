from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from surveys.accounts.models import ROLES
from surveys.reasons.forms import ANY, ISODateField, ReasonFilterForm
from surveys.reasons.nlp.labels import LANGUAGES
from surveys.reports.queries import PERIODS
from surveys.reports.retention import PERIODS as RETENTION_PERIODS
from surveys.reports.trends import BREAKDOWN_LABELS


class TrendFilterForm(FlaskForm):
    """The trend page's view, read from (and kept in) the query string."""

    class Meta:
        csrf = False  # a GET that changes nothing

    period = SelectField("Per", choices=[SelectChoice(p) for p in PERIODS], default="month")
    by = SelectField(
        "By",
        choices=[SelectChoice("", "everything together")]
        + [SelectChoice(key, label) for key, label in BREAKDOWN_LABELS.items()],
        default="",
    )
    since = ISODateField("From", validators=[Optional()])
    until = ISODateField("Until", validators=[Optional()])
    segment = SelectField("Segment", choices=[ANY], default="", validate_choice=False)
    role = SelectField(
        "Role",
        choices=[ANY, *(SelectChoice(role, role.replace("_", " ")) for role in ROLES)],
        default="",
    )
    language = SelectField(
        "Language", choices=[ANY, *(SelectChoice(language) for language in LANGUAGES)], default=""
    )
    manager = StringField("Account manager", validators=[Optional(), Length(max=254)])
    account = StringField("Account id", validators=[Optional(), Length(max=64)])

    def validate_until(self, field: ISODateField) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("The end of the period is before its start.")


class RetentionForm(ReasonFilterForm):
    """The retention page's range (the reasons page's From and Until, both days counted)
    and period; its other filters are not shown."""

    period = SelectField(
        "Period", choices=[SelectChoice(period) for period in RETENTION_PERIODS], default="month"
    )
