from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from surveys.campaigns.services import MAX_DAYS_OPEN, MAX_REMIND_AFTER_DAYS, NAME_MAX_LENGTH


class CampaignForm(FlaskForm):
    kind = SelectField(
        "Survey",
        choices=[
            SelectChoice("nps", "NPS: how likely to recommend us"),
            SelectChoice("exit", "Exit: why did you leave"),
        ],
    )
    name = StringField(
        "Name",
        validators=[
            DataRequired("Give the campaign a name."),
            Length(max=NAME_MAX_LENGTH, message=f"At most {NAME_MAX_LENGTH} characters."),
        ],
    )
    accounts = StringField(
        "Accounts (exit only)",
        description="account_ids, comma-separated; empty: every account that churned "
        "since the last exit campaign",
        validators=[Optional()],
    )
    days_open = IntegerField(
        "Open for (days)",
        default=30,
        validators=[
            NumberRange(1, MAX_DAYS_OPEN, f"From 1 to {MAX_DAYS_OPEN} days."),
        ],
    )
    remind_after_days = IntegerField(
        "Reminder after (days)",
        default=4,
        description="one reminder to who has not answered; empty: no reminder",
        validators=[
            Optional(),
            NumberRange(0, MAX_REMIND_AFTER_DAYS, f"From 0 to {MAX_REMIND_AFTER_DAYS} days."),
        ],
    )


class SendForm(FlaskForm):
    """Only its CSRF token: sending changes state, so it is a POST."""
