from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from surveys.reasons.forms import ReasonFilterForm
from surveys.reports.retention import PERIODS


class RetentionForm(ReasonFilterForm):
    """The retention page's range (the reasons page's From and Until, both days counted)
    and period; its other filters are not shown."""

    period = SelectField(
        "Period", choices=[SelectChoice(period) for period in PERIODS], default="month"
    )
