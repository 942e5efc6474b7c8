import json

import click
from flask import current_app
from flask.cli import AppGroup

from surveys.auth.access import Scope
from surveys.extensions import db
from surveys.reports.nps import signed
from surveys.reports.queries import PERIODS, AnswerFilters
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
