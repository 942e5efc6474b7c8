"""The answer forms: validation and its messages. The questions' wording lives in the
templates. The field names (score, reason, comment, felt_prioritised, manager_contact)
are a public contract: the e-mails' score links and other tools post them."""

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, IntegerField, RadioField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from surveys.campaigns.models import COMMENT_MAX_LENGTH, MANAGER_CONTACT, REASONS

SCORE_MESSAGE = _l("The score must be a whole number from 0 to 10.")
PRIORITISED_MESSAGE = _l("Choose how prioritised you felt, from 1 to 5.")


# A small whole number as a person or a score link writes it: ASCII digits only (not "٣"
# or "１"), no leading zero, no sign, no spaces, at most three digits (never thousands).
SMALL_NUMBER = re.compile(r"0|[1-9][0-9]{0,2}")
# What no comment needs and no database should store: control characters other than
# tab and line breaks (NUL among them, which PostgreSQL refuses).
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def parse_small_number(text: str) -> int | None:
    """The number in ``text``, or None when it is not written as SMALL_NUMBER says."""
    return int(text) if SMALL_NUMBER.fullmatch(text) else None


class StrictInteger(IntegerField):
    """A whole number, refusing "7.5", "7e0", " 7", "07" or other scripts' digits rather
    than reading them as something the person may not have meant."""

    def __init__(self, *args: object, message: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.message = message

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = None
        if not valuelist or valuelist[0] == "":
            return
        self.data = parse_small_number(valuelist[0])
        if self.data is None:
            raise ValueError(self.message)


def _storable(form: FlaskForm, field: Field) -> None:
    found = CONTROL_CHARACTER.search(field.data or "")
    if found:
        raise ValidationError(
            _l(
                "Your comment contains a character that cannot be stored (%(character)s); "
                "remove it and send again.",
                character=f"U+{ord(found.group()):04X}",
            )
        )


def _one_kind_of_line_break(text: str | None) -> str | None:
    """Browsers count a line break as one character and send it as two (CR LF)."""
    return text.replace("\r\n", "\n") if text else text


def one_of(allowed: tuple[str, ...], message: object):
    def check(form: FlaskForm, field: Field) -> None:
        if field.data not in allowed:
            raise ValidationError(message)

    return check


def _comment() -> TextAreaField:
    return TextAreaField(
        filters=[_one_kind_of_line_break],
        validators=[
            Optional(),
            _storable,
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
