from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField


class ImportForm(FlaskForm):
    file = FileField(
        "Contacts CSV file",
        validators=[
            FileRequired("Choose a CSV file to import."),
            FileAllowed(["csv", "txt"], "The file must be a .csv file."),
        ],
    )
    skip_invalid = BooleanField("Import the good rows and list the bad ones")
