"""The API's query parameters, checked as the pages check theirs (the reasons page's
filter form), and refused with a 400 that names the parameter."""

import re
import unicodedata
from datetime import UTC, datetime, time, timedelta

from flask import current_app
from werkzeug.datastructures import MultiDict

from surveys.api.errors import ApiError
from surveys.api.pagination import single
from surveys.auth.access import Scope
from surveys.columns import utcnow
from surveys.reasons.forms import ReasonFilterForm
from surveys.reasons.nlp.labels import REASONS
from surveys.reasons.services import ReasonFilters
from surveys.reports.queries import PERIODS, AnswerFilters
from surveys.reports.trends import BREAKDOWNS

FILTERS = ("since", "until", "segment", "role", "language", "kind", "min_signals")
TEXT_MAX_LENGTH = 200
UNSEEN = frozenset({"Cc", "Cf", "Zl", "Zp"})
ROW_ID = re.compile(r"[0-9]{1,10}")
WINDOW_DAYS = (1, 3650)


def text(name: str) -> str | None:
    """A free-text filter (an account id, a segment): empty is absent; at most 200
    characters, none of those the contacts import refuses in any cell (control and
    invisible format characters, line and paragraph separators)."""
    value = single(name)
    if not value:
        return None
    if len(value) > TEXT_MAX_LENGTH or any(
        unicodedata.category(character) in UNSEEN for character in value
    ):
        raise ApiError(
            400,
            f"{name} must be at most {TEXT_MAX_LENGTH} characters, without control or "
            "invisible formatting characters.",
            parameter=name,
        )
    return value


def choice(name: str, choices: tuple[str, ...], default: str | None = None) -> str | None:
    """One of ``choices``; absent is ``default``, empty is refused as any other word."""
    value = single(name)
    if value is None:
        return default
    if value not in choices:
        raise ApiError(400, f"{name} must be one of {', '.join(choices)}.", parameter=name)
    return value


def number(name: str, low: int, high: int, default: int | None = None) -> int | None:
    """ASCII digits from ``low`` to ``high``; absent is ``default``."""
    value = single(name)
    if value is None:
        return default
    if not ROW_ID.fullmatch(value) or not low <= int(value) <= high:
        raise ApiError(400, f"{name} must be a whole number from {low} to {high}.", parameter=name)
    return int(value)


def _form(allowed: tuple[str, ...]) -> ReasonFilterForm:
    """The page's filter form over the parameters this endpoint takes. Unlike the page's
    form, whose blank fields are sent empty, an empty value is no value: refused."""
    given = MultiDict()
    for name in allowed:
        value = single(name)
        if value == "" and name != "segment":
            raise ApiError(400, f"{name} is empty; leave it out to not filter.", parameter=name)
        if value is not None:
            given[name] = value
    segment = text("segment") if "segment" in allowed else None
    if segment is not None:
        given["segment"] = segment
    form = ReasonFilterForm(given)
    if not form.validate():
        name, messages = next(iter(form.errors.items()))
        label = form[name].label.text
        raise ApiError(400, f"{name} ({label}): {messages[0]}", parameter=name)
    return form


def _start(day) -> datetime | None:
    return datetime.combine(day, time(), UTC) if day else None


def _end(day) -> datetime | None:
    """The whole of the last day."""
    return datetime.combine(day, time(), UTC) + timedelta(days=1) if day else None


def answer_filters(scope: Scope, *, kinds: bool = True) -> AnswerFilters:
    """since, until, segment, role, language, kind (with ``kinds``), account, campaign."""
    allowed = ("since", "until", "segment", "role", "language") + (("kind",) if kinds else ())
    form = _form(allowed)
    return AnswerFilters(
        scope=scope,
        since=_start(form.since.data),
        until=_end(form.until.data),
        segment=form.segment.data or None,
        role=form.role.data or None,
        language=form.language.data or None,
        kind=(form.kind.data or None) if kinds else None,
        account_external_id=text("account"),
        campaign_id=number("campaign", 1, 2**31 - 1),
    )


def reason_filters(scope: Scope, now: datetime | None = None) -> ReasonFilters:
    """The reasons page's filters, with its default period (the report window up to
    ``now``)."""
    form = _form(FILTERS)
    since = _start(form.since.data) or (now or utcnow()) - timedelta(
        days=current_app.config["REPORT_WINDOW_DAYS"]
    )
    return ReasonFilters(
        scope=scope,
        since=since,
        until=_end(form.until.data),
        segment=form.segment.data or None,
        role=form.role.data or None,
        language=form.language.data or None,
        kind=form.kind.data or None,
        account_external_id=text("account"),
        min_signals=int(form.min_signals.data or 1),
    )


def verbatim_choice() -> tuple[str | None, str]:
    return choice("reason", REASONS), choice("source", ("found", "stated"), "found")


def trend_choice() -> tuple[str, str | None]:
    return choice("period", PERIODS, "month"), choice("by", tuple(BREAKDOWNS))


def window_days() -> int:
    return number("window_days", *WINDOW_DAYS, default=current_app.config["REPORT_WINDOW_DAYS"])
