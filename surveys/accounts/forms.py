from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField
from wtforms.validators import DataRequired


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
