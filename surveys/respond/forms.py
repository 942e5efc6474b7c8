"""The answer forms: validation and its messages. The questions' wording lives in the
templates. The field names (score, reason, comment) are a public contract: the e-mails'
score links and other tools post them."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from surveys.campaigns.models import COMMENT_MAX_LENGTH, REASONS

SCORE_MESSAGE = _l("The score must be a whole number from 0 to 10.")


class StrictInteger(IntegerField):
    """An integer field that refuses "7.5", "7e0" or " 7" rather than rounding them."""

    def process_formdata(self, valuelist: list[str]) -> None:
        if valuelist and valuelist[0] != "" and not valuelist[0].isdecimal():
            self.data = None
            raise ValueError(SCORE_MESSAGE)
        super().process_formdata(valuelist)


class NPSAnswerForm(FlaskForm):
    class Meta:
        # The personal token in the URL is the credential; there is no session to forge.
        csrf = False

    score = StrictInteger(
        validators=[
            InputRequired(message=_l("Choose a score from 0 to 10.")),
            NumberRange(min=0, max=10, message=SCORE_MESSAGE),
        ],
    )
    reason = RadioField(choices=list(REASONS), validators=[Optional()], validate_choice=False)
    comment = TextAreaField(
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

    def validate_reason(self, field: RadioField) -> None:
        if field.data and field.data not in REASONS:
            raise ValidationError(_l("Choose one of the reasons listed."))

    def answers(self) -> dict[str, object]:
        """The validated answers as the response stores them."""
        return {
            "score": self.score.data,
            "reason": self.reason.data or None,
            "comment": (self.comment.data or "").strip() or None,
        }


ANSWER_FORMS: dict[str, type[NPSAnswerForm]] = {"nps": NPSAnswerForm}
