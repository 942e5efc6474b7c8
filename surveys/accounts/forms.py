from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from surveys.accounts.models import NOTE_MAX_LENGTH
from surveys.reports.nps import BAND_NAMES
from surveys.reports.services import AccountFilter
from surveys.respond.forms import CONTROL_CHARACTER


class ImportForm(FlaskForm):
    file = FileField(
        "Contacts CSV file",
        validators=[
            FileRequired("Choose a CSV file to import."),
            FileAllowed(["csv", "txt"], "The file must be a .csv file."),
        ],
    )
    skip_invalid = BooleanField("Import the good rows and list the bad ones")


class ContactExportForm(FlaskForm):
    """Only its CSRF token: the export is a POST so no address ends up in a URL or a log."""


class ContactEraseForm(FlaskForm):
    confirm = BooleanField(
        "Yes, erase this person at every account; this cannot be undone",
        validators=[DataRequired("Tick the box to confirm the erasure.")],
    )


def storable(form: FlaskForm, field: TextAreaField) -> None:
    found = CONTROL_CHARACTER.search(field.data or "")
    if found:
        raise ValidationError(
            f"The note contains a character that cannot be stored (U+{ord(found.group()):04X}); "
            "remove it and try again."
        )


def note_field(label: str) -> TextAreaField:
    return TextAreaField(
        label,
        validators=[
            Optional(),
            storable,
            Length(
                max=NOTE_MAX_LENGTH,
                message=f"A note can have at most {NOTE_MAX_LENGTH:,} characters.",
            ),
        ],
        render_kw={"rows": 3, "maxlength": NOTE_MAX_LENGTH},
    )


class ContactedTodayForm(FlaskForm):
    """The account's manager was in touch today ("Contacted today"), with an optional note."""

    note = note_field("Note (optional)")


SORTS = {  # the accounts list's sortable columns (reports.services.ACCOUNT_SORTS)
    "name": "Account",
    "segment": "Segment",
    "status": "Status",
    "nps": "NPS",
    "n": "n",
    "interval": "95% interval",
    "band": "Band",
    "response_rate": "Response rate",
}
BAND_FILTERS = {**BAND_NAMES, "none": "Too few answers"}


class AccountListForm(FlaskForm):
    """The accounts list's view: search, filters, sort and page, from the query string."""

    class Meta:
        csrf = False  # a GET that changes nothing

    q = StringField("Name or id", validators=[Optional(), Length(max=100)])
    segment = SelectField(
        "Segment", choices=[SelectChoice("", "any")], default="", validate_choice=False
    )
    manager = SelectField(
        "Account manager", choices=[SelectChoice("", "any")], default="", validate_choice=False
    )
    band = SelectField(
        "Band",
        choices=[SelectChoice("", "any")]
        + [SelectChoice(band, BAND_FILTERS[band]) for band in BAND_FILTERS],
        default="",
    )
    status = SelectField(
        "Status",
        choices=[SelectChoice("", "any"), SelectChoice("active"), SelectChoice("churned")],
        default="",
    )
    sort = SelectField("Sort", choices=[SelectChoice(key) for key in SORTS], default="name")
    order = SelectField("Order", choices=[SelectChoice("asc"), SelectChoice("desc")], default="asc")
    page = StringField("Page", default="1")

    def validate_page(self, field: StringField) -> None:
        text = field.data or "1"
        if not (text.isascii() and text.isdigit() and len(text) <= 6 and int(text) >= 1):
            raise ValidationError("A page is a whole number from 1.")

    def validate_segment(self, field: SelectField) -> None:
        if field.data and field.data not in [choice.value for choice in field.choices]:
            raise ValidationError("Choose one of the segments listed.")

    def validate_manager(self, field: SelectField) -> None:
        if field.data and field.data not in [choice.value for choice in field.choices]:
            raise ValidationError("Choose one of the account managers listed.")


def account_filter(form: FlaskForm) -> AccountFilter:
    """The accounts list's view in a validated form with its fields (the list's own, or an
    export's)."""
    return AccountFilter(
        search=(form.q.data or "").strip() or None,
        segment=form.segment.data or None,
        manager=form.manager.data or None,
        status=form.status.data or None,
        band=form.band.data or None,
        sort=form.sort.data or "name",
        descending=form.order.data == "desc",
    )
