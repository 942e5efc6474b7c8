"""The answer forms: validation and its messages. The questions' wording lives in the
templates. The field names (score, reason, comment, felt_prioritised, manager_contact)
are a public contract: the e-mails' score links and other tools post them."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, IntegerField, RadioField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from surveys.campaigns.models import COMMENT_MAX_LENGTH, MANAGER_CONTACT, REASONS

SCORE_MESSAGE = _l("The score must be a whole number from 0 to 10.")
PRIORITISED_MESSAGE = _l("Choose how prioritised you felt, from 1 to 5.")


class StrictInteger(IntegerField):
    """A whole number, refusing "7.5", "7e0" or " 7" rather than rounding them."""

    def __init__(self, *args: object, message: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.message = message

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = None
        if not valuelist or valuelist[0] == "":
            return
        if not valuelist[0].isdecimal():
            raise ValueError(self.message)
        self.data = int(valuelist[0])


def one_of(allowed: tuple[str, ...], message: object):
    def check(form: FlaskForm, field: Field) -> None:
        if field.data not in allowed:
            raise ValidationError(message)

    return check


def _comment() -> TextAreaField:
    return TextAreaField(
        validators=[
            Optional(),
            Length(
                max=COMMENT_MAX_LENGTH,
                message=_l(
                    "Your comment is longer than %(max)d characters.", max=COMMENT_MAX_LENGTH
                ),
            ),
        ],
    )


def _reason() -> RadioField:
    return RadioField(
        choices=list(REASONS),
        validate_choice=False,
        validators=[Optional(), one_of(REASONS, _l("Choose one of the reasons listed."))],
    )


class AnswerForm(FlaskForm):
    class Meta:
        # The personal token in the URL is the credential; there is no session to forge.
        csrf = False

    def answers(self) -> dict[str, object]:
        """The validated answers as the response stores them."""
        answers = {name: field.data for name, field in self._fields.items()}
        answers["reason"] = answers["reason"] or None
        answers["comment"] = (answers["comment"] or "").strip() or None
        return answers


class NPSAnswerForm(AnswerForm):
    score = StrictInteger(
        message=SCORE_MESSAGE,
        validators=[
            InputRequired(message=_l("Choose a score from 0 to 10.")),
            NumberRange(min=0, max=10, message=SCORE_MESSAGE),
        ],
    )
    reason = _reason()
    comment = _comment()


class ExitAnswerForm(AnswerForm):
    reason = _reason()
    comment = _comment()
    felt_prioritised = StrictInteger(
        message=PRIORITISED_MESSAGE,
        validators=[Optional(), NumberRange(min=1, max=5, message=PRIORITISED_MESSAGE)],
    )
    manager_contact = RadioField(
        choices=list(MANAGER_CONTACT),
        validate_choice=False,
        validators=[
            Optional(),
            one_of(MANAGER_CONTACT, _l("Choose never, once or several times.")),
        ],
    )
    score = StrictInteger(
        message=SCORE_MESSAGE,
        validators=[Optional(), NumberRange(min=0, max=10, message=SCORE_MESSAGE)],
    )

    def validate(self, extra_validators: dict | None = None) -> bool:
        if not super().validate(extra_validators):
            return False
        if not any(value not in (None, "") for value in self.answers().values()):
            self.form_errors.append(_l("Answer at least one question."))
            return False
        return True

    def answers(self) -> dict[str, object]:
        answers = super().answers()
        answers["manager_contact"] = answers["manager_contact"] or None
        return answers


ANSWER_FORMS: dict[str, type[AnswerForm]] = {"nps": NPSAnswerForm, "exit": ExitAnswerForm}
