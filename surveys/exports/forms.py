from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional

from surveys.accounts.forms import BAND_FILTERS, SORTS
from surveys.exports.writers import SEPARATORS
from surveys.reasons.forms import ANY, ReasonFilterForm
from surveys.reports.retention import PERIODS
from surveys.reports.trends import BREAKDOWNS


class ExportForm(ReasonFilterForm):
    """A page's filters in an export's query string: the reasons page's (from, until,
    segment, role, language, survey kind, verdict strength), and what the other reports
    read (the accounts list's search, band, status and sort). Fields a report does not read
    are ignored, as are parameters no field names (a page's page number)."""

    q = StringField("Name or id", validators=[Optional(), Length(max=100)])
    band = SelectField(
        "Band", choices=[ANY, *(SelectChoice(band) for band in BAND_FILTERS)], default=""
    )
    status = SelectField(
        "Status", choices=[ANY, SelectChoice("active"), SelectChoice("churned")], default=""
    )
    sort = SelectField("Sort", choices=[SelectChoice(key) for key in SORTS], default="name")
    order = SelectField("Order", choices=[SelectChoice("asc"), SelectChoice("desc")], default="asc")

    account = StringField("Account", validators=[Optional(), Length(max=64)])
    manager = StringField("Account manager", validators=[Optional(), Length(max=254)])
    campaign = IntegerField("Campaign", validators=[Optional(), NumberRange(1, 2**31 - 1)])
    period = SelectField(
        "Period", choices=[ANY, *(SelectChoice(period) for period in PERIODS)], default=""
    )
    by = SelectField("By", choices=[ANY, *(SelectChoice(by) for by in BREAKDOWNS)], default="")
    sep = SelectField(
        "Separator", choices=[SelectChoice(separator) for separator in SEPARATORS], default=";"
    )
