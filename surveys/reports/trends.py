"""NPS over time: per month or quarter, overall or by segment, role, language, account
manager or account, each point with its interval and each change from the previous
period marked significant or not (DESIGN.md's two-sample Wald test).

One contact, one vote in each period: a contact's latest NPS answer in the period counts.
Aggregated in SQL: one query, grouped by period and group.
"""

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from surveys.accounts.models import Account, Contact
from surveys.campaigns.models import Invitation, Response
from surveys.reports.nps import NPSSummary, compare, summarise
from surveys.reports.queries import AnswerFilters, answers, period_of

# What a trend can be broken down by, and the column each reads.
BREAKDOWNS = {
    "segment": Account.segment,
    "role": Contact.role,
    "language": Contact.language,
    "manager": Account.account_manager_email,
    "account": Account.external_id,
}
BREAKDOWN_LABELS = {
    "segment": "segment",
    "role": "role",
    "language": "language",
    "manager": "account manager",
    "account": "account",
}


@dataclass(frozen=True)
class TrendPoint:
    period: str
    summary: NPSSummary
    # Against the group's previous period with answers (None for its first).
    change: float | None = None
    change_significant: bool | None = None

    def as_json(self) -> dict:
        summary = self.summary
        return {
            "period": self.period,
            "nps": summary.nps,
            "n": summary.n,
            "promoters": summary.promoters,
            "passives": summary.passives,
            "detractors": summary.detractors,
            "ci_low": summary.ci_low,
            "ci_high": summary.ci_high,
            "band": summary.band,
            "band_indicative": summary.band is not None and not summary.band_certain,
            "change": self.change,
            "change_significant": self.change_significant,
        }


@dataclass
class TrendSeries:
    """One group's points (the whole scope's when the trend is not broken down)."""

    group: str | None
    label: str
    points: list[TrendPoint] = field(default_factory=list)

    @property
    def n(self) -> int:
        return sum(point.summary.n for point in self.points)

    def as_json(self) -> dict:
        return {
            "group": self.group,
            "label": self.label,
            "points": [point.as_json() for point in self.points],
        }


@dataclass
class Trend:
    period: str
    by: str | None
    periods: list[str]
    series: list[TrendSeries]

    def as_json(self) -> dict:
        return {
            "period": self.period,
            "by": self.by,
            "periods": self.periods,
            "series": [series.as_json() for series in self.series],
        }


def nps_trend(
    session: Session, filters: AnswerFilters, *, period: str = "month", by: str | None = None
) -> Trend:
    """The NPS of each period (and group), from the scoped answers inside ``filters``."""
    if by is not None and by not in BREAKDOWNS:
        raise ValueError(f"a trend is broken down by one of {', '.join(BREAKDOWNS)}, not {by!r}")
    dialect = session.get_bind().dialect.name
    period_expression = period_of(Response.answered_at, period, dialect)
    group_column = (BREAKDOWNS[by] if by else sa.literal(None)).label("grp")
    ranked = (
        answers(
            filters.but(kind="nps"),
            period_expression.label("period"),
            group_column,
            Response.score,
            sa.func.row_number()
            .over(
                partition_by=(Invitation.contact_id, period_expression),
                order_by=(Response.answered_at.desc(), Response.id.desc()),
            )
            .label("rank"),
        )
        .where(Response.score.is_not(None))
        .subquery()
    )
    latest = sa.select(ranked).where(ranked.c.rank == 1).subquery()
    rows = session.execute(
        sa.select(
            latest.c.period,
            latest.c.grp,
            sa.func.sum(sa.case((latest.c.score >= 9, 1), else_=0)),
            sa.func.sum(sa.case((latest.c.score.between(7, 8), 1), else_=0)),
            sa.func.sum(sa.case((latest.c.score <= 6, 1), else_=0)),
        )
        .group_by(latest.c.period, latest.c.grp)
        .order_by(latest.c.grp, latest.c.period)
    ).all()
    labels = _group_labels(session, by, {row.grp for row in rows})
    series: dict[object, TrendSeries] = {}
    for period_label, group, promoters, passives, detractors in rows:
        counts = (int(promoters), int(passives), int(detractors))
        one = series.setdefault(
            group, TrendSeries(group, labels.get(group, group or "All answers"))
        )
        previous = one.points[-1] if one.points else None
        change = significant = None
        if previous is not None and previous.summary.n:
            earlier = (
                previous.summary.promoters,
                previous.summary.passives,
                previous.summary.detractors,
            )
            result = compare(earlier, counts)
            change, significant = round(100 * result.difference, 1), result.significant
        one.points.append(TrendPoint(period_label, summarise(*counts), change, significant))
    ordered = sorted(series.values(), key=lambda item: (-item.n, str(item.label)))
    periods = sorted({point.period for item in ordered for point in item.points})
    return Trend(period, by, periods, ordered)


def _group_labels(session: Session, by: str | None, groups: set[object]) -> dict[object, str]:
    """What a person reads for each group: an account's name, a role in words."""
    if by == "account" and groups:
        return dict(
            session.execute(
                sa.select(Account.external_id, Account.name).where(
                    Account.external_id.in_([group for group in groups if group])
                )
            ).all()
        )
    if by == "role":
        return {group: str(group).replace("_", " ") for group in groups if group}
    labels: dict[object, str] = {None: "(none)"} if by else {}
    return labels
