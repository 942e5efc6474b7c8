"""The CX team's reasons page: stated against found reasons, price as cover, verbatims."""

import re
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, render_template, request
from markupsafe import Markup, escape

from surveys.accounts.services import get_account
from surveys.auth.access import STAFF, blueprint_access, current_scope
from surveys.columns import utcnow
from surveys.extensions import db
from surveys.reasons.forms import ReasonFilterForm
from surveys.reasons.nlp.labels import REASONS
from surveys.reasons.services import ReasonFilters, reasons_report, segments, verbatims

blueprint = blueprint_access(Blueprint("reasons", __name__, url_prefix="/reasons"), STAFF)


def _filters(account_external_id: str | None = None) -> tuple[ReasonFilterForm, ReasonFilters]:
    form = ReasonFilterForm(request.args)
    form.segment.choices = [form.segment.choices[0], *segments(db.session, scope=current_scope())]
    if not form.validate():
        abort(
            400,
            "; ".join(
                f"{form[name].label.text}: {message}"
                for name, messages in form.errors.items()
                for message in messages
            ),
        )
    since = (
        datetime.combine(form.since.data, time(), UTC)
        if form.since.data
        else utcnow() - timedelta(days=current_app.config["REPORT_WINDOW_DAYS"])
    )
    until = None
    if form.until.data:  # the whole of the last day
        until = datetime.combine(form.until.data, time(), UTC) + timedelta(days=1)
    return form, ReasonFilters(
        scope=current_scope(),
        since=since,
        until=until,
        segment=form.segment.data or None,
        role=form.role.data or None,
        language=form.language.data or None,
        kind=form.kind.data or None,
        account_external_id=account_external_id,
        min_signals=int(form.min_signals.data or 1),
    )


def _query(**changes: str) -> str:
    """This page's filters with some changed, as a query string."""
    args = {key: value for key, value in request.args.items() if value}
    args.update({key: value for key, value in changes.items() if value})
    return urlencode(args)


@blueprint.app_template_filter("highlight")
def highlight(text: str | None, words: Sequence[str], set_aside: Sequence[str] = ()) -> Markup:
    """The text, escaped, with every evidence word or phrase in <mark>, and every word that
    only named a topic it set aside in <mark class="set-aside">; evidence wins an overlap."""
    if not text:
        return Markup("")
    spans: list[tuple[int, int, bool]] = []  # (start, end, is evidence)
    for group, evidence in ((words, True), (set_aside, False)):
        for word in sorted(set(group), key=len, reverse=True):
            pattern = r"(?<!\w)" + re.escape(word) + r"(?!\w)"
            spans.extend(
                (*match.span(), evidence) for match in re.finditer(pattern, text, re.IGNORECASE)
            )
    spans.sort()
    merged: list[list] = []
    for start, end, evidence in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            merged[-1][2] = merged[-1][2] or evidence
        else:
            merged.append([start, end, evidence])
    parts, position = [], 0
    for start, end, evidence in merged:
        opening = Markup("<mark>") if evidence else Markup('<mark class="set-aside">')
        parts.append(escape(text[position:start]))
        parts.append(opening + escape(text[start:end]) + Markup("</mark>"))
        position = end
    parts.append(escape(text[position:]))
    return Markup("").join(parts)


@blueprint.get("/")
def index() -> str:
    form, filters = _filters()
    report = reasons_report(db.session, filters)
    return render_template(
        "reasons/index.html", form=form, report=report, reasons=REASONS, query=_query
    )


@blueprint.get("/verbatims")
def verbatim_list() -> str:
    form, filters = _filters()
    reason = request.args.get("reason") or None
    source = request.args.get("source", "found")
    if reason is not None and reason not in REASONS or source not in ("found", "stated"):
        abort(400, "reason must be one of price, attention, product, other; source found or stated")
    return render_template(
        "reasons/verbatims.html",
        form=form,
        verbatims=verbatims(db.session, filters, reason, source),
        reason=reason,
        source=source,
        verdicts={},
        query=_query,
    )


@blueprint.get("/accounts/<external_id>")
def account(external_id: str) -> str:
    account = get_account(db.session, external_id, scope=current_scope())
    if account is None:
        abort(404)
    form, filters = _filters(account_external_id=external_id)
    report = reasons_report(db.session, filters)
    row = report.accounts[0] if report.accounts else None
    return render_template(
        "reasons/verbatims.html",
        form=form,
        verbatims=verbatims(db.session, filters),
        account=account,
        row=row,
        verdicts={v.answer.response_id: v for v in row.verdict.verdicts} if row else {},
        reason=None,
        source=None,
        query=_query,
    )
