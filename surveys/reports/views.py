"""Report pages. Retention: accounts kept, acquired and lost per period, CRR and churn
rate, CLV and the cost of a lost customer per segment, and the revenue at risk, over
the accounts the signed-in user sees."""

from decimal import Decimal

from flask import Blueprint, abort, current_app, render_template, request

from surveys.auth.access import STAFF, blueprint_access, current_scope
from surveys.columns import utcnow
from surveys.extensions import db
from surveys.reports.forms import RetentionForm
from surveys.reports.retention_report import default_range, retention_report

blueprint = blueprint_access(Blueprint("reports", __name__, url_prefix="/reports"), STAFF)


@blueprint.app_template_filter("amount")
def amount(value: float | Decimal | None) -> str:
    """Money as Nordic pages write it: 1 234 567, whole units; "–" when unknown."""
    if value is None:
        return "–"
    return f"{value:,.0f}".replace(",", "\u202f")


@blueprint.get("/retention")
def retention() -> str:
    form = RetentionForm(request.args)
    if not form.validate():
        abort(
            400,
            "; ".join(
                f"{form[name].label.text}: {message}"
                for name, messages in form.errors.items()
                for message in messages
            ),
        )
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
