"""Downloads: every report as CSV or XLSX, with the page's filters from the query string,
over what the signed-in user may see, each logged in the audit log."""

import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from sqlalchemy.orm import Session

from surveys.accounts.forms import account_filter
from surveys.auth.access import STAFF, Scope, blueprint_access, current_scope
from surveys.auth.services import audit
from surveys.columns import utcnow
from surveys.exports.forms import ExportForm
from surveys.exports.tables import (
    Table,
    answers_table,
    committee_table,
    foresight_reasons_table,
    foresight_table,
    my_accounts_table,
    nps_table,
    reason_counts_table,
    reasons_over_time_table,
    reasons_table,
    response_rates_table,
    retention_table,
    revenue_at_risk_table,
    segments_table,
    trend_table,
)
from surveys.exports.writers import CONTENT_TYPES, FORMATS, csv_pieces, file_name, write_xlsx
from surveys.extensions import db
from surveys.reasons.services import ReasonFilters, reasons_report
from surveys.reports.insights import (
    committee_coverage,
    foresight,
    reasons_over_time,
    response_rates,
)
from surveys.reports.queries import PERIODS as TREND_PERIODS
from surveys.reports.queries import AnswerFilters
from surveys.reports.retention_report import default_range, retention_report
from surveys.reports.services import nps_report
from surveys.reports.trends import nps_trend
from surveys.reports.workspace import my_accounts

blueprint = blueprint_access(Blueprint("exports", __name__, url_prefix="/exports"), STAFF)


def _start(form: ExportForm) -> datetime | None:
    return datetime.combine(form.since.data, time(), UTC) if form.since.data else None


def _end(form: ExportForm) -> datetime | None:
    """The end of the last day asked for: it counts whole."""
    if not form.until.data:
        return None
    return datetime.combine(form.until.data, time(), UTC) + timedelta(days=1)


def _window_start(form: ExportForm, now: datetime) -> datetime:
    """From the day asked for, or over the report window, as the pages do."""
    return _start(form) or now - timedelta(days=current_app.config["REPORT_WINDOW_DAYS"])


def _answer_filters(form: ExportForm, scope: Scope, since: datetime | None) -> AnswerFilters:
    return AnswerFilters(
        scope=scope,
        since=since,
        until=_end(form),
        segment=form.segment.data or None,
        role=form.role.data or None,
        language=form.language.data or None,
        kind=form.kind.data or None,
        account_external_id=(form.account.data or "").strip() or None,
        account_manager_email=(form.manager.data or "").strip().lower() or None,
        campaign_id=form.campaign.data,
    )


def _reasons(session: Session, form: ExportForm, scope: Scope, now: datetime):
    filters = ReasonFilters(
        scope=scope,
        since=_window_start(form, now),
        until=_end(form),
        segment=form.segment.data or None,
        role=form.role.data or None,
        language=form.language.data or None,
        kind=form.kind.data or None,
        account_external_id=form.account.data or None,
        min_signals=int(form.min_signals.data or 1),
    )
    return reasons_report(session, filters, now=now)


def _trend(session: Session, form: ExportForm, scope: Scope, now: datetime) -> Table:
    period = form.period.data or "month"
    if period not in TREND_PERIODS:
        raise ValueError(f"NPS over time is per {' or '.join(TREND_PERIODS)}, not per {period}")
    filters = _answer_filters(form, scope, _start(form))
    return trend_table(nps_trend(session, filters, period=period, by=form.by.data or None))


def _reports_period(form: ExportForm) -> str:
    period = form.period.data or "month"
    if period not in TREND_PERIODS:
        raise ValueError(f"this report is per {' or '.join(TREND_PERIODS)}, not per {period}")
    return period


def _filters(form: ExportForm, scope: Scope) -> AnswerFilters:
    """The report pages' filters: no window unless From or Until is given."""
    return _answer_filters(form, scope, _start(form))


def _retention(session: Session, form: ExportForm, scope: Scope, now: datetime):
    first, last = default_range(now.date())
    config = current_app.config
    return retention_report(
        session,
        scope=scope,
        first=form.since.data or first,
        last=form.until.data or last,
        period=form.period.data or "month",
        gross_margin=config["GROSS_MARGIN"],
        acquisition_cost=config["ACQUISITION_COST"],
        window_days=config["REPORT_WINDOW_DAYS"],
        now=now,
    )


# Every export: its name in the URL, and the table of the page's report.
TABLES: dict[str, Callable[[Session, ExportForm, Scope, datetime], Table]] = {
    "answers": lambda session, form, scope, now: answers_table(
        session, _answer_filters(form, scope, _start(form))
    ),
    "nps": lambda session, form, scope, now: nps_table(
        nps_report(
            session,
            scope=scope,
            window_days=current_app.config["REPORT_WINDOW_DAYS"],
            narrow=account_filter(form),
            now=now,
        )
    ),
    "trend": _trend,
    "reasons": lambda *args: reasons_table(_reasons(*args)),
    "reason-counts": lambda *args: reason_counts_table(_reasons(*args)),
    "committee": lambda session, form, scope, now: committee_table(
        committee_coverage(session, _filters(form, scope))
    ),
    "foresight": lambda session, form, scope, now: foresight_table(
        foresight(session, _filters(form, scope))
    ),
    "foresight-reasons": lambda session, form, scope, now: foresight_reasons_table(
        foresight(session, _filters(form, scope))
    ),
    "reasons-over-time": lambda session, form, scope, now: reasons_over_time_table(
        reasons_over_time(session, _filters(form, scope), period=_reports_period(form))
    ),
    "response-rates": lambda session, form, scope, now: response_rates_table(
        response_rates(session, _filters(form, scope))
    ),
    "my-accounts": lambda session, form, scope, now: my_accounts_table(
        my_accounts(
            session, scope=scope, now=now, window_days=current_app.config["REPORT_WINDOW_DAYS"]
        )
    ),
    "retention": lambda *args: retention_table(_retention(*args)),
    "retention-segments": lambda *args: segments_table(_retention(*args)),
    "revenue-at-risk": lambda *args: revenue_at_risk_table(_retention(*args)),
}


@blueprint.app_template_global()
def export_url(name: str, file_format: str, **changes: str) -> str:
    """This page's export ``name`` in ``file_format``, with the page's query string."""
    args = {key: value for key, value in request.args.items() if value}
    args.update(changes)
    return url_for("exports.download", name=name, file_format=file_format, **args)


@blueprint.get("/<name>.<file_format>")
def download(name: str, file_format: str) -> Response:
    if name not in TABLES or file_format not in FORMATS:
        abort(404)
    form = ExportForm(request.args)
    if not form.validate():
        abort(
            400,
            "; ".join(
                f"{form[field].label.text}: {message}"
                for field, messages in form.errors.items()
                for message in messages
            ),
        )
    now = utcnow()
    # A session of the download's own: a streamed file is read after the request has
    # ended (and its context, with the request's session, is gone). Closed between: a
    # streamed table opens it again as it is read, and it is closed at the end.
    session = Session(db.engine)
    try:
        table = TABLES[name](session, form, current_scope(), now)
    except ValueError as error:
        abort(400, str(error))
    finally:
        session.close()
    limit = current_app.config["EXPORT_XLSX_MAX_ROWS"]
    if file_format == "xlsx" and table.count > limit:
        abort(
            400,
            f"This export has {table.count:,} rows; an XLSX download holds up to {limit:,}, "
            "because a workbook is built whole before it is sent. Download the CSV, which "
            "streams, narrow the filters, or run flask export answers --format xlsx.",
        )
    return send_table(table, file_format, separator=form.sep.data, now=now, session=session)


def send_table(
    table: Table, file_format: str, *, separator: str, now: datetime, session: Session
) -> Response:
    """The table as a download, logged in the audit log: CSV streamed as it is written
    (a generator that needs no request context), XLSX written to a temporary file first
    (a workbook is a zip, finished only at its end), then sent."""
    download_name = file_name(table, file_format, now.date())
    if file_format == "xlsx":
        workbook = tempfile.TemporaryFile()
        try:
            write_xlsx(table, workbook)
        finally:
            session.close()
        workbook.seek(0)
        _audit(table, file_format, now)
        return send_file(
            workbook,
            mimetype=CONTENT_TYPES["xlsx"],
            as_attachment=True,
            download_name=download_name,
            etag=False,
        )
    _audit(table, file_format, now)

    def pieces() -> Iterator[bytes]:
        try:
            yield from csv_pieces(table, separator)
        finally:
            session.close()

    return Response(
        pieces(),
        content_type=CONTENT_TYPES["csv"],
        headers={"Content-Disposition": f'attachment; filename="{download_name}"'},
    )


def _audit(table: Table, file_format: str, now: datetime) -> None:
    audit(
        db.session,
        "export",
        now=now,
        user=current_user,
        target=table.name,
        detail=f"{file_format}, {table.count} rows",
    )
    db.session.commit()
