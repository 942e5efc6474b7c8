from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from surveys.auth.models import USER_ROLES
from surveys.auth.services import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH
from surveys.auth.tokens import NAME_MAX_LENGTH

ROLE_CHOICES = [SelectChoice(role, role.replace("_", " ")) for role in USER_ROLES]


def _new_password(label: str) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            DataRequired("Choose a password."),
            Length(
                PASSWORD_MIN_LENGTH,
                PASSWORD_MAX_LENGTH,
                f"From {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters.",
            ),
        ],
    )


class LoginForm(FlaskForm):
    email = EmailField("E-mail address", validators=[DataRequired("Give your e-mail address.")])
    password = PasswordField("Password", validators=[DataRequired("Give your password.")])
    remember = BooleanField("Keep me signed in on this device (14 days)")


class CodeForm(FlaskForm):
    code = StringField(
        "Code from your authenticator app",
        validators=[DataRequired("Type the six digits your app shows.")],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code"},
    )


class ForgotForm(FlaskForm):
    email = EmailField("E-mail address", validators=[DataRequired("Give your e-mail address.")])


class ResetForm(FlaskForm):
    password = _new_password("New password")
    confirm = PasswordField(
        "The same again", validators=[EqualTo("password", "The two passwords differ.")]
    )


class ChangePasswordForm(ResetForm):
    current = PasswordField(
        "Current password", validators=[DataRequired("Give your current password.")]
    )


class TwoFactorForm(FlaskForm):
    code = StringField(
        "Code from your authenticator app",
        validators=[DataRequired("Type the six digits your app shows.")],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code"},
    )


class TurnOffTwoFactorForm(FlaskForm):
    password = PasswordField("Your password", validators=[DataRequired("Give your password.")])


class NewUserForm(FlaskForm):
    email = EmailField("E-mail address", validators=[DataRequired("Give an e-mail address.")])
    role = SelectField("Role", choices=ROLE_CHOICES)


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class TokenForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[
            DataRequired("Name the token after what will use it."),
            Length(max=NAME_MAX_LENGTH, message=f"At most {NAME_MAX_LENGTH} characters."),
        ],
        render_kw={"placeholder": "e.g. CRM sync"},
    )


class ConfirmForm(FlaskForm):
    """Only its CSRF token."""
