from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from surveys.accounts.models import NOTE_MAX_LENGTH
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
