"""The CX team's report pages: NPS over time (and the other reports of issue 10), and
retention: accounts kept, acquired and lost per period, CRR and churn rate, CLV and the
cost of a lost customer per segment, and the revenue at risk."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, render_template, request

from surveys.accounts.models import ROLES
from surveys.auth.access import STAFF, blueprint_access, current_scope
from surveys.columns import utcnow
from surveys.extensions import db
from surveys.reasons.nlp.labels import REASONS
from surveys.reasons.services import segments
from surveys.reports.charts import Point, Series, legend, nps_chart
from surveys.reports.forms import RetentionForm, TrendFilterForm
from surveys.reports.insights import (
    DISAGREEMENT_POINTS,
    committee_coverage,
    foresight,
    reasons_over_time,
    response_rates,
)
from surveys.reports.queries import AnswerFilters
from surveys.reports.retention_report import default_range, retention_report
from surveys.reports.trends import BREAKDOWN_LABELS, nps_trend

blueprint = blueprint_access(Blueprint("reports", __name__, url_prefix="/reports"), STAFF)


@blueprint.app_template_filter("amount")
def amount(value: float | Decimal | None) -> str:
    """Money as Nordic pages write it: 1 234 567, whole units; "–" when unknown."""
    if value is None:
        return "–"
    return f"{value:,.0f}".replace(",", "\u202f")


def _errors(form) -> str:
    return "; ".join(
        f"{form[name].label.text}: {message}"
        for name, messages in form.errors.items()
        for message in messages
    )


def _read_filters() -> tuple[TrendFilterForm, AnswerFilters]:
    """The page's filters from the query string, validated (400 saying what is wrong)."""
    scope = current_scope()
    form = TrendFilterForm(request.args)
    form.segment.choices = [form.segment.choices[0], *segments(db.session, scope=scope)]
    if not form.validate():
        abort(400, _errors(form))
    return form, AnswerFilters(
        scope=scope,
        since=datetime.combine(form.since.data, time(), UTC) if form.since.data else None,
        until=(
            datetime.combine(form.until.data, time(), UTC) + timedelta(days=1)
            if form.until.data
            else None
        ),
        segment=form.segment.data or None,
        role=form.role.data or None,
        language=form.language.data or None,
        account_manager_email=(form.manager.data or "").strip().lower() or None,
        account_external_id=(form.account.data or "").strip() or None,
    )


def _query() -> str:
    return urlencode({key: value for key, value in request.args.items() if value})


@blueprint.get("/")
def index() -> str:
    return render_template("reports/index.html", query=_query())


@blueprint.get("/trend")
def trend() -> str:
    form, filters = _read_filters()
    report = nps_trend(db.session, filters, period=form.period.data, by=form.by.data or None)
    drawn = [
        Series(
            series.label,
            [
                Point(point.period, point.summary.nps, point.summary.ci_low, point.summary.ci_high)
                for point in series.points
            ],
        )
        for series in report.series
    ]
    title = (
        "NPS per "
        + form.period.data
        + (f" by {BREAKDOWN_LABELS[form.by.data]}" if form.by.data else "")
    )
    return render_template(
        "reports/trend.html",
        form=form,
        report=report,
        title=title,
        chart=nps_chart(report.periods, drawn, title=title) if report.periods else None,
        legend=legend(drawn) if report.by else None,
        drawn=len(drawn),
        query=_query(),
    )


@blueprint.get("/committee")
def committee() -> str:
    form, filters = _read_filters()
    rows = committee_coverage(db.session, filters)
    disagreeing = sorted(
        (row for row in rows if row.disagreement is not None),
        key=lambda row: abs(row.disagreement),
        reverse=True,
    )
    return render_template(
        "reports/committee.html",
        form=form,
        rows=rows,
        roles=ROLES,
        silent=[row for row in rows if row.silent_decision_makers],
        disagreeing=[row for row in disagreeing if abs(row.disagreement) >= DISAGREEMENT_POINTS],
        query=_query(),
    )


@blueprint.get("/foresight")
def foresight_page() -> str:
    form, filters = _read_filters()
    return render_template(
        "reports/foresight.html", form=form, report=foresight(db.session, filters), query=_query()
    )


@blueprint.get("/reasons")
def reasons_page() -> str:
    form, filters = _read_filters()
    periods = reasons_over_time(db.session, filters, period=form.period.data)
    return render_template(
        "reports/reasons.html", form=form, periods=periods, reasons=REASONS, query=_query()
    )


@blueprint.get("/response-rates")
def response_rates_page() -> str:
    form, filters = _read_filters()
    return render_template(
        "reports/response_rates.html",
        form=form,
        rates=response_rates(db.session, filters),
        query=_query(),
    )


@blueprint.get("/retention")
def retention() -> str:
    form = RetentionForm(request.args)
    if not form.validate():
        abort(400, _errors(form))
    now = utcnow()
    first, last = default_range(now.date())
    config = current_app.config
    try:
        report = retention_report(
            db.session,
            scope=current_scope(),
            first=form.since.data or first,
            last=form.until.data or last,
            period=form.period.data or "month",
            gross_margin=config["GROSS_MARGIN"],
            acquisition_cost=config["ACQUISITION_COST"],
            window_days=config["REPORT_WINDOW_DAYS"],
            now=now,
        )
    except ValueError as error:
        abort(400, str(error))
    return render_template("reports/retention.html", form=form, report=report)
