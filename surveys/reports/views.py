"""The CX team's report pages: NPS over time (and the other reports of issue 10)."""

from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlencode

from flask import Blueprint, abort, render_template, request

from surveys.auth.access import STAFF, blueprint_access, current_scope
from surveys.extensions import db
from surveys.reasons.services import segments
from surveys.reports.charts import Point, Series, legend, nps_chart
from surveys.reports.forms import TrendFilterForm
from surveys.reports.queries import AnswerFilters
from surveys.reports.trends import BREAKDOWN_LABELS, nps_trend

blueprint = blueprint_access(Blueprint("reports", __name__, url_prefix="/reports"), STAFF)


def _errors(form) -> str:
    return "; ".join(
        f"{form[name].label.text}: {message}"
        for name, messages in form.errors.items()
        for message in messages
    )


@blueprint.get("/trend")
def trend() -> str:
    scope = current_scope()
    form = TrendFilterForm(request.args)
    form.segment.choices = [form.segment.choices[0], *segments(db.session, scope=scope)]
    if not form.validate():
        abort(400, _errors(form))
    filters = AnswerFilters(
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
        query=urlencode({key: value for key, value in request.args.items() if value}),
    )
