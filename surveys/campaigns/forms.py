from babel import Locale
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from surveys.accounts.models import LANGUAGES
from surveys.campaigns.services import (
    MAX_DAYS_OPEN,
    MAX_REMIND_AFTER_DAYS,
    NAME_MAX_LENGTH,
    CampaignError,
    normalise_test_address,
)


def language_label(language: str) -> str:
    """ "sv" -> "Swedish (sv)": the names come with Babel's locale data."""
    return f"{Locale.parse(language).english_name} ({language})"


def language_choices() -> list[SelectChoice]:
    return [SelectChoice(language, language_label(language)) for language in LANGUAGES]


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
    # The churned accounts to ask, as checkboxes; the view sets the choices.
    accounts = SelectMultipleField(
        "Accounts (exit only)",
        description="none ticked: every account that churned since the last exit campaign "
        "(marked below)",
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        choices=[],
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


class ButtonForm(FlaskForm):
    """Only its CSRF token: a button that changes state (send, retry) is a POST."""


class RetryUnknownForm(FlaskForm):
    understood = BooleanField(
        "I understand that some of these contacts may get the e-mail twice (with the same link)",
        validators=[DataRequired("Tick the box to say you accept that some may get two.")],
    )


class SendTestForm(FlaskForm):
    # Logins do not exist yet; when they do, this starts out as the staff member's address.
    recipient = StringField(
        "Send to",
        validators=[DataRequired("Give the address to send the test to.")],
        render_kw={"inputmode": "email", "autocomplete": "email", "spellcheck": "false"},
    )
    language = SelectField("Language", choices=language_choices())

    def validate_recipient(self, field: StringField) -> None:
        try:
            field.data = normalise_test_address(field.data)
        except CampaignError as error:
            message = str(error)
            raise ValidationError(message[0].upper() + message[1:] + ".") from None
