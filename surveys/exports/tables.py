"""Every report as a table: named columns and rows of plain values, which the CSV and
XLSX writers turn into files and ``records`` into JSON. So a file, the command line's
JSON and a page read the same rows.

Column names are the words of the import and of the JSON (``account_id``,
``contact_email``, ``crr``); percentages (NPS, CRR, churn rate) run from -100 to 100, as
on the pages; money is in the currency of ``annual_revenue``; times are UTC.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from surveys.accounts.models import ROLES, Account, Contact
from surveys.campaigns.models import Campaign, Response, ResponseReason
from surveys.reasons.nlp.labels import REASONS
from surveys.reasons.services import ReasonsReport
from surveys.reports.insights import Committee, Foresight, Rate, ReasonsPeriod
from surveys.reports.nps import NPSSummary
from surveys.reports.queries import AnswerFilters, answers
from surveys.reports.retention_report import (
    AT_RISK_BAND,
    NPS_FELL,
    PRICE_COVER,
    PeriodFigures,
    RetentionReport,
)
from surveys.reports.services import NPSReport
from surveys.reports.trends import Trend
from surveys.reports.workspace import AccountRisk

Cell = str | int | float | Decimal | date | datetime | bool | None

# Rows read from the database at a time while an export streams.
ROWS_AT_A_TIME = 1000


@dataclass
class Table:
    """``name`` names the file and the sheet; ``count`` is the number of rows when they are
    read as the file is written (None: count ``rows``)."""

    name: str
    columns: tuple[str, ...]
    rows: Iterable[tuple[Cell, ...]]
    count: int | None = None

    def __post_init__(self) -> None:
        if self.count is None:
            self.rows = list(self.rows)
            self.count = len(self.rows)

    def records(self) -> list[dict[str, object]]:
        """The rows as JSON objects: numbers stay numbers, days and times ISO 8601."""
        return [dict(zip(self.columns, map(_json_value, row), strict=True)) for row in self.rows]


def _json_value(value: Cell) -> object:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _percent(proportion: float | None) -> float | None:
    return None if proportion is None else round(100 * proportion, 1)


def _money(value: float | Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


# --- Raw answers -----------------------------------------------------------------------

ANSWER_COLUMNS = (
    "response_id",
    "answered_at",
    "campaign_kind",
    "campaign",
    "account_id",
    "account_name",
    "segment",
    "contact_name",
    "contact_email",
    "role",
    "language",
    "score",
    "reason_picked",
    "reasons_found",
    "comment",
    "felt_prioritised",
    "manager_contact",
)


def _answers_query(filters: AnswerFilters) -> sa.Select:
    found = (
        sa.select(sa.func.aggregate_strings(ResponseReason.reason, "|"))
        .where(ResponseReason.response_id == Response.id, ResponseReason.found)
        .scalar_subquery()
    )
    return answers(
        filters,
        Response.id,
        Response.answered_at,
        Campaign.kind,
        Campaign.name,
        Account.external_id,
        Account.name,
        Account.segment,
        Contact.name,
        Contact.email,
        Contact.role,
        Contact.language,
        Response.score,
        Response.reason,
        found,
        Response.comment,
        Response.felt_prioritised,
        Response.manager_contact,
    ).order_by(Response.answered_at, Response.id)


def answers_table(session: Session, filters: AnswerFilters) -> Table:
    """One row per answer inside ``filters`` (and their scope), oldest first, read from
    the database a thousand at a time as the file is written. Erased contacts have no
    name, address or comment."""
    query = _answers_query(filters)
    count = session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))

    def rows() -> Iterator[tuple[Cell, ...]]:
        result = session.execute(query.execution_options(yield_per=ROWS_AT_A_TIME))
        for row in result:
            values = list(row)
            index = ANSWER_COLUMNS.index("reasons_found")
            # the database joins them in no particular order
            values[index] = "|".join(sorted(values[index].split("|"))) if values[index] else None
            yield tuple(values)

    return Table("answers", ANSWER_COLUMNS, rows(), count=count or 0)


# --- NPS per account, NPS over time -------------------------------------------------------

NPS_COLUMNS = (
    "nps",
    "n",
    "promoters",
    "passives",
    "detractors",
    "ci_low",
    "ci_high",
    "band",
    "band_indicative",
)


def _nps_values(summary: NPSSummary) -> tuple[Cell, ...]:
    return (
        summary.nps,
        summary.n,
        summary.promoters,
        summary.passives,
        summary.detractors,
        summary.ci_low,
        summary.ci_high,
        summary.band,
        summary.band is not None and not summary.band_certain,
    )


def nps_table(report: NPSReport) -> Table:
    """The accounts page: every account's NPS (those the page's filters keep, in its
    order), the first row all of them together."""
    columns = ("account_id", "account_name", "segment", "status", *NPS_COLUMNS, "response_rate")
    rows = [("", "All accounts", None, None, *_nps_values(report.overall), report.response_rate)]
    rows += [
        (
            row.account.external_id,
            row.account.name,
            row.account.segment,
            row.account.status,
            *_nps_values(row.summary),
            row.response_rate,
        )
        for row in report.accounts
    ]
    return Table("nps", columns, rows)


def trend_table(trend: Trend) -> Table:
    """NPS over time: a row per group and period, with the change from the group's
    previous period and whether it is significant."""
    columns = ("period", "group", "label", *NPS_COLUMNS, "change", "change_significant")
    rows = [
        (
            point.period,
            series.group,
            series.label,
            *_nps_values(point.summary),
            point.change,
            point.change_significant,
        )
        for series in trend.series
        for point in series.points
    ]
    return Table("trend", columns, rows)


# --- Reasons -------------------------------------------------------------------------------


def reasons_table(report: ReasonsReport) -> Table:
    """Every account of the reasons page: the reasons stated and found, most frequent
    first, and its price-as-cover verdict with the sources and evidence behind it."""
    columns = (
        "account_id",
        "account_name",
        "stated",
        "found",
        "price_is_cover",
        "signals",
        "sources",
        "evidence",
    )
    rows = []
    for row in report.accounts:
        verdict, strongest = row.verdict, row.verdict.strongest
        rows.append(
            (
                row.account.external_id,
                row.account.name,
                "|".join(row.stated),
                "|".join(row.found),
                verdict.price_is_cover,
                strongest.strength if strongest else None,
                "|".join(strongest.sources) if strongest else None,
                "; ".join(f"{signal.signal}: {signal.detail}" for signal in verdict.evidence),
            )
        )
    return Table("reasons", columns, rows)


def reason_counts_table(report: ReasonsReport) -> Table:
    """Stated against found: how many answers picked each reason, and in how many the
    classifier found it."""
    rows = [(reason, report.stated[reason], report.found[reason]) for reason in report.stated]
    return Table("reason-counts", ("reason", "stated", "found"), rows)


# --- Retention -------------------------------------------------------------------------------

RETENTION_COLUMNS = (
    "period",
    "from",
    "to",
    "accounts_start",
    "accounts_end",
    "acquired",
    "lost",
    "crr",
    "churn_rate",
)


def _period_values(label: str, figures: PeriodFigures) -> tuple[Cell, ...]:
    return (
        label,
        figures.period.first,
        figures.period.last,
        figures.accounts_start,
        figures.accounts_end,
        figures.acquired,
        figures.lost,
        _percent(figures.crr),
        _percent(figures.churn_rate),
    )


def retention_table(report: RetentionReport) -> Table:
    """Accounts at the start and end, acquired and lost, CRR and churn rate: the whole
    range first (period "all"), then each period."""
    rows = [_period_values("all", report.whole)]
    rows += [_period_values(figures.period.label, figures) for figures in report.periods]
    return Table("retention", RETENTION_COLUMNS, rows)


def segments_table(report: RetentionReport) -> Table:
    """Per segment, and for all accounts first: ARPA, the churn rate of the twelve months
    to the report's end, CLV and the cost of a lost customer (empty where the segment lost
    nobody that year, or has no revenue)."""
    columns = (
        "segment",
        "accounts",
        "accounts_with_revenue",
        "arpa",
        "accounts_year_start",
        "lost_in_year",
        "yearly_churn_rate",
        "gross_margin",
        "acquisition_cost",
        "clv_before_acquisition",
        "clv",
        "cost_of_lost_customer",
    )
    rows = [
        (
            "(all)" if value.everyone else value.segment,
            value.accounts,
            value.with_revenue,
            value.arpa,
            value.accounts_year_start,
            value.lost_in_year,
            _percent(value.yearly_churn_rate),
            value.gross_margin,
            _money(value.acquisition_cost),
            _money(value.clv_before_acquisition),
            _money(value.clv),
            _money(value.cost_of_lost_customer),
        )
        for value in report.segments
    ]
    return Table("retention-segments", columns, rows)


def revenue_at_risk_table(report: RetentionReport) -> Table:
    """The active accounts whose revenue is at risk, highest revenue first, and why."""
    columns = (
        "account_id",
        "account_name",
        "segment",
        "account_manager_email",
        "annual_revenue",
        "nps",
        "n",
        "band",
        "nps_change",
        AT_RISK_BAND,
        NPS_FELL,
        PRICE_COVER,
        "cover_signals",
    )
    rows = [
        (
            row.account.external_id,
            row.account.name,
            row.account.segment,
            row.account.account_manager_email,
            row.account.annual_revenue,
            row.summary.nps,
            row.summary.n,
            row.summary.band,
            row.nps_change,
            AT_RISK_BAND in row.why,
            NPS_FELL in row.why,
            PRICE_COVER in row.why,
            row.cover_signals or None,
        )
        for row in report.at_risk
    ]
    return Table("revenue-at-risk", columns, rows)


def retention_json(report: RetentionReport) -> dict[str, object]:
    """``report retention --json``: the whole range's figures at the top, then the tables
    of the periods, the segments and the accounts at risk."""
    whole = retention_table(report).records()[0]
    return {
        "from": report.first.isoformat(),
        "to": report.last.isoformat(),
        "period": report.period,
        **{key: whole[key] for key in RETENTION_COLUMNS[3:]},
        "revenue_at_risk": float(report.revenue_at_risk),
        "as_of": report.as_of.isoformat(),
        "periods": retention_table(report).records()[1:],
        "segments": segments_table(report).records(),
        "accounts_at_risk": revenue_at_risk_table(report).records(),
        "churned_without_date": report.churned_without_date,
        "accounts_without_customer_since": report.without_customer_since,
    }


# --- The report pages' other reports, and My accounts ----------------------------------------


def committee_table(rows: list[Committee]) -> Table:
    """Buying committee: per account, each role invited and answering, the spread of the
    contacts' latest scores, and decision makers' against users' average."""
    columns = ("account_id", "account_name", "segment")
    for role in ROLES:
        columns += (f"{role}_invited", f"{role}_answered")
    columns += (
        "lowest_score",
        "highest_score",
        "decision_makers_mean",
        "users_mean",
        "disagreement",
        "silent_decision_makers",
    )
    table_rows = []
    for row in rows:
        roles = []
        for role in ROLES:
            roles += [row.roles[role].invited, row.roles[role].answered]
        table_rows.append(
            (
                row.account.external_id,
                row.account.name,
                row.account.segment,
                *roles,
                row.lowest,
                row.highest,
                row.decision_makers_mean,
                row.users_mean,
                row.disagreement,
                row.silent_decision_makers,
            )
        )
    return Table("committee", columns, table_rows)


def foresight_table(report: Foresight) -> Table:
    """Did we see it coming: every churned account, the reasons it left for, and the
    earlier answers that gave one of them."""
    columns = (
        "account_id",
        "account_name",
        "churned_at",
        "exit_reasons",
        "announced",
        "earliest_days_before",
        "warnings",
    )
    rows = [
        (
            story.account.external_id,
            story.account.name,
            story.account.churned_at,
            "|".join(story.exit_reasons),
            story.announced,
            story.earliest_days,
            "; ".join(
                f"{warning.contact}, {warning.days_before} days before "
                f"({warning.answered_at:%Y-%m-%d}): {'|'.join(warning.reasons)}"
                for warning in story.warnings
            ),
        )
        for story in report.stories
    ]
    return Table("foresight", columns, rows)


def foresight_reasons_table(report: Foresight) -> Table:
    rows = [(reason, left, told) for reason, (left, told) in report.by_reason.items()]
    return Table("foresight-reasons", ("reason", "accounts_left", "announced_before"), rows)


def reasons_over_time_table(periods: list[ReasonsPeriod]) -> Table:
    """Per period: how many answers picked each reason, in how many the classifier found
    it, and the share of price answers that are a cover."""
    columns = (
        "period",
        *(f"stated_{reason}" for reason in REASONS),
        *(f"found_{reason}" for reason in REASONS),
        "price_answers",
        "price_covers",
        "price_cover_share",
    )
    rows = [
        (
            period.period,
            *(period.stated[reason] for reason in REASONS),
            *(period.found[reason] for reason in REASONS),
            period.price_answers,
            period.price_covers,
            period.cover_share,
        )
        for period in periods
    ]
    return Table("reasons-over-time", columns, rows)


def response_rates_table(rates: dict[str, list[Rate]]) -> Table:
    """Invitations sent and answered per campaign, role and language."""
    rows = [
        (group, rate.label, rate.sent, rate.answered, rate.rate)
        for group, group_rates in rates.items()
        for rate in group_rates
    ]
    return Table("response-rates", ("by", "label", "sent", "answered", "response_rate"), rows)


def my_accounts_table(accounts: list[AccountRisk]) -> Table:
    """My accounts: most at risk first, with their NPS, its change and every risk."""
    columns = (
        "account_id",
        "account_name",
        "segment",
        "account_manager_email",
        *NPS_COLUMNS,
        "nps_earlier",
        "nps_later",
        "nps_change",
        "nps_fell",
        "open_follow_ups",
        "overdue_follow_ups",
        "risks",
    )
    rows = [
        (
            item.account.external_id,
            item.account.name,
            item.account.segment,
            item.account.account_manager_email,
            *_nps_values(item.row.summary),
            item.change.earlier,
            item.change.later,
            item.change.points,
            item.change.significant_fall,
            item.open_follow_ups,
            item.overdue_follow_ups,
            "; ".join(f"{risk.reason}: {risk.detail}" for risk in item.risks),
        )
        for item in accounts
    ]
    return Table("my-accounts", columns, rows)
