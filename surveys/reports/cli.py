import json
from datetime import date
from decimal import Decimal

import click
from flask import current_app
from flask.cli import AppGroup

from surveys.auth.access import Scope
from surveys.columns import utcnow
from surveys.exports.tables import (
    retention_json,
    retention_table,
    revenue_at_risk_table,
    segments_table,
)
from surveys.extensions import db
from surveys.reasons.forms import FIRST_DATE, ISO_DATE, LAST_DATE
from surveys.reports.nps import signed
from surveys.reports.queries import PERIODS, AnswerFilters
from surveys.reports.retention import PERIODS as RETENTION_PERIODS
from surveys.reports.retention_report import retention_report
from surveys.reports.rows import nps_report_row, trend_row
from surveys.reports.services import nps_report
from surveys.reports.trends import BREAKDOWNS, nps_trend

report = AppGroup("report", help="Reports for the CX team.")


@report.command("nps")
@click.option("--account", "account_id", help="Only this account (its CSV account_id).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--window-days",
    type=click.IntRange(1, 3650),
    default=None,
    help="Count answers of the last N days (default: 365).",
)
def nps_command(account_id: str | None, as_json: bool, window_days: int | None) -> None:
    """NPS per account and overall, with the 95% adjusted-Wald interval."""
    result = nps_report(
        db.session,
        scope=Scope.system(),
        window_days=window_days or current_app.config["REPORT_WINDOW_DAYS"],
        account_external_id=account_id,
    )
    if account_id is not None and not result.accounts:
        raise click.ClickException(f"there is no account {account_id!r}")
    data = nps_report_row(result)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    click.echo(f"{'account':<12} {'name':<32} {'NPS':>6} {'n':>4}  {'95% CI':<15} band")
    for row in [{"account_id": "", "name": "Overall", **data["overall"]}, *data["accounts"]]:
        interval = f"[{row['ci_low']}, {row['ci_high']}]" if row["n"] else ""
        nps = "" if row["nps"] is None else row["nps"]
        click.echo(
            f"{row['account_id']:<12} {row['name'][:32]:<32} {nps:>6} {row['n']:>4}  "
            f"{interval:<15} {row['band'] or ''}"
        )


@report.command("trend")
@click.option("--period", type=click.Choice(PERIODS), default="month", show_default=True)
@click.option("--by", type=click.Choice(tuple(BREAKDOWNS)), default=None, help="One line a group.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def trend_command(period: str, by: str | None, as_json: bool) -> None:
    """NPS per month or quarter, each point with its 95% interval and whether it changed
    significantly from the group's previous period."""
    result = nps_trend(db.session, AnswerFilters(scope=Scope.system()), period=period, by=by)
    if as_json:
        click.echo(json.dumps(trend_row(result), ensure_ascii=False))
        return
    for series in result.series:
        click.echo(series.label)
        for point in series.points:
            summary = point.summary
            change = ""
            if point.change is not None:
                mark = "significant" if point.change_significant else "not significant"
                change = f"  change {signed(point.change)} ({mark})"
            click.echo(
                f"  {point.period:<8} NPS {signed(summary.nps):>4}  n {summary.n:>4}  "
                f"[{signed(summary.ci_low)}, {signed(summary.ci_high)}]{change}"
            )


class ISODate(click.ParamType):
    """A day written as 2026-03-31 in the digits 0-9, from FIRST_DATE to LAST_DATE (click's
    own DateTime also takes other scripts' digits)."""

    name = "date"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None):
        if isinstance(value, date):
            return value
        text = str(value).strip()
        shown = repr(text if len(text) <= 40 else text[:37] + "...")
        if not ISO_DATE.fullmatch(text):
            self.fail(f"{shown} is not a date like 2026-03-31 (digits 0-9)", param, ctx)
        try:
            day = date.fromisoformat(text)
        except ValueError:
            self.fail(f"{shown} is not a day of the calendar", param, ctx)
        if not FIRST_DATE <= day <= LAST_DATE:
            self.fail(
                f"{shown} is out of range: choose from {FIRST_DATE} to {LAST_DATE}", param, ctx
            )
        return day


@report.command("retention")
@click.option("--from", "first", type=ISODate(), required=True, help="First day, e.g. 2026-01-01.")
@click.option("--to", "last", type=ISODate(), required=True, help="Last day, counted whole.")
@click.option("--period", type=click.Choice(RETENTION_PERIODS), default="month", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def retention_command(first: date, last: date, period: str, as_json: bool) -> None:
    """Accounts at the start and end of each period, acquired and lost, CRR and churn
    rate; CLV and the cost of a lost customer per segment; the revenue at risk."""
    if last < first:
        raise click.BadParameter(f"{last} is before --from {first}", param_hint="--to")
    config = current_app.config
    try:
        result = retention_report(
            db.session,
            scope=Scope.system(),
            first=first,
            last=last,
            period=period,
            gross_margin=config["GROSS_MARGIN"],
            acquisition_cost=config["ACQUISITION_COST"],
            window_days=config["REPORT_WINDOW_DAYS"],
            now=utcnow(),
        )
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps(retention_json(result), ensure_ascii=False))
        return
    for title, table in (
        ("Retention", retention_table(result)),
        ("Per segment", segments_table(result)),
        (f"Revenue at risk: {result.revenue_at_risk:,.2f}", revenue_at_risk_table(result)),
    ):
        click.echo(title)
        _echo_table(table.columns, table.rows)
        click.echo()


def _echo_table(columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Columns as wide as their longest value; numbers to the right."""

    def text(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "yes" if value else "no"
        return str(value)

    cells = [[text(value) for value in row] for row in rows]
    widths = [max([len(name), *(len(row[i]) for row in cells)]) for i, name in enumerate(columns)]
    numeric = [
        bool(rows)
        and all(isinstance(row[i], int | float | Decimal) or row[i] is None for row in rows)
        for i in range(len(columns))
    ]
    for row in [list(columns), *cells]:
        click.echo(
            "  ".join(
                value.rjust(width) if right else value.ljust(width)
                for value, width, right in zip(row, widths, numeric, strict=True)
            ).rstrip()
        )
