"""The retention report: accounts at the start and end of each period, acquired and lost,
CRR and churn rate (DESIGN.md); CLV and the cost of a lost customer per segment; and the
revenue at risk: the yearly revenue of active accounts whose NPS is at risk, whose NPS fell
significantly, or whose "price" is a cover.

Counted in SQL over the accounts the scope sees, one query per table; the maths is in
``retention.py``.

When an account was a customer:
- from ``customer_since``; without it, from the day it was created here (imported), or
  from its churn if that came first: nothing is claimed about the time before we knew it;
- until ``churned_at``. A churned account without ``churned_at`` cannot be placed in any
  period, so it is left out of every count (and counted apart, so the page can say so).

A period runs from the start of its first day to the end of its last, in UTC. S counts the
accounts that were customers before its first day and had not churned by then; N those
that became customers on one of its days; lost those that churned on one of its days; E
those that were customers at the end of its last day. So E = S + N - lost.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from surveys.accounts.models import Account
from surveys.auth.access import Scope, visible_account_ids
from surveys.reasons.services import ReasonFilters, reasons_report
from surveys.reports.nps import NPSSummary, summarise
from surveys.reports.retention import (
    Period,
    add_months,
    churn_rate,
    cost_of_lost_customer,
    customer_lifetime_value,
    customer_retention_rate,
    periods,
    year_to,
)
from surveys.reports.services import nps_counts
from surveys.reports.workspace import PERIOD as FALL_PERIOD
from surveys.reports.workspace import period_change

# An NPS that fell: the last six months against the six before.
FALL_MONTHS = 6
# Why an account's revenue is at risk.
AT_RISK_BAND, NPS_FELL, PRICE_COVER = "at_risk_band", "nps_fell", "price_cover"


def _moment(day: date) -> datetime:
    """The start of ``day`` in UTC."""
    return datetime.combine(day, time(), UTC)


class Day:
    """A day in SQL, as a date (against ``customer_since``) and as the moment it begins
    (against the timestamps): literals, or the columns of the periods' table."""

    def __init__(self, day: sa.ColumnElement, moment: sa.ColumnElement) -> None:
        self.day, self.moment = day, moment

    @classmethod
    def of(cls, day: date) -> "Day":
        return cls(sa.literal(day, sa.Date), sa.literal(_moment(day), Account.created_at.type))


def _customer_before(day: Day) -> sa.ColumnElement[bool]:
    """The account became a customer before ``day`` (see the module's docstring)."""
    return sa.or_(
        sa.and_(Account.customer_since.is_not(None), Account.customer_since < day.day),
        sa.and_(
            Account.customer_since.is_(None),
            sa.or_(Account.created_at < day.moment, _churned_before(day)),
        ),
    )


def _churned_before(day: Day) -> sa.ColumnElement[bool]:
    """True or false, never NULL: these conditions are negated, and NOT NULL is NULL."""
    return sa.and_(Account.churned_at.is_not(None), Account.churned_at < day.moment)


def _customer_at_start_of(day: Day) -> sa.ColumnElement[bool]:
    """A customer when ``day`` began."""
    return sa.and_(
        _customer_before(day), sa.or_(Account.churned_at.is_(None), ~_churned_before(day))
    )


def _lost_between(first: Day, after: Day) -> sa.ColumnElement[bool]:
    """Churned on a day from ``first`` to the day before ``after``."""
    return sa.and_(Account.churned_at.is_not(None), ~_churned_before(first), _churned_before(after))


def _counted() -> sa.ColumnElement[bool]:
    """Accounts that retention can place in time."""
    return sa.or_(Account.status != "churned", Account.churned_at.is_not(None))


def _count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


@dataclass(frozen=True)
class PeriodFigures:
    period: Period
    accounts_start: int
    accounts_end: int
    acquired: int
    lost: int

    @property
    def crr(self) -> float | None:
        """CRR as a proportion; None without accounts at the start."""
        if not self.accounts_start:
            return None
        return customer_retention_rate(self.accounts_start, self.accounts_end, self.acquired)

    @property
    def churn_rate(self) -> float | None:
        if not self.accounts_start:
            return None
        return churn_rate(self.lost, self.accounts_start)


@dataclass(frozen=True)
class SegmentValue:
    """A segment's (or every account's, ``segment`` None and ``everyone``) value: its
    yearly revenue per active account, its churn over the twelve months to the report's
    end, and what follows: CLV and the cost of a lost customer."""

    segment: str | None
    everyone: bool
    # accounts active at the end, and those of them with a yearly revenue
    accounts: int
    with_revenue: int
    arpa: Decimal | None
    accounts_year_start: int
    lost_in_year: int
    gross_margin: float
    acquisition_cost: float

    @property
    def yearly_churn_rate(self) -> float | None:
        if not self.accounts_year_start:
            return None
        return churn_rate(self.lost_in_year, self.accounts_year_start)

    def _defined(self) -> bool:
        return self.arpa is not None and bool(self.yearly_churn_rate)

    @property
    def clv_before_acquisition(self) -> float | None:
        """None without a revenue or without churn in the year (an account that never
        leaves has no end to its value)."""
        if not self._defined():
            return None
        return customer_lifetime_value(float(self.arpa), self.gross_margin, self.yearly_churn_rate)

    @property
    def clv(self) -> float | None:
        """DESIGN.md's CLV: less the acquisition cost."""
        if not self._defined():
            return None
        return customer_lifetime_value(
            float(self.arpa), self.gross_margin, self.yearly_churn_rate, self.acquisition_cost
        )

    @property
    def cost_of_lost_customer(self) -> float | None:
        if not self._defined():
            return None
        return cost_of_lost_customer(
            float(self.arpa), self.gross_margin, self.yearly_churn_rate, self.acquisition_cost
        )


@dataclass(frozen=True)
class AccountAtRisk:
    account: Account
    # the account's NPS over the report window, and its change from the six months
    # before the last six to the last six (None without answers in both)
    summary: NPSSummary
    nps_change: float | None
    why: tuple[str, ...]
    # how many independent sources its strongest price-as-cover verdict rests on (0: none)
    cover_signals: int = 0


@dataclass
class RetentionReport:
    first: date
    last: date
    period: str
    # the moment the revenue at risk is judged at: the end of ``last``, or now if sooner
    as_of: datetime
    whole: PeriodFigures
    periods: list[PeriodFigures]
    segments: list[SegmentValue]
    at_risk: list[AccountAtRisk] = field(default_factory=list)
    # churned accounts without churned_at (left out), accounts without customer_since
    churned_without_date: int = 0
    without_customer_since: int = 0

    @property
    def revenue_at_risk(self) -> Decimal:
        return sum((row.account.annual_revenue or Decimal(0) for row in self.at_risk), Decimal(0))

    @property
    def at_risk_without_revenue(self) -> int:
        return sum(row.account.annual_revenue is None for row in self.at_risk)


def default_range(today: date) -> tuple[date, date]:
    """What a retention report shows unless told: this month and the eleven before it,
    to today."""
    return add_months(today.replace(day=1), -11), today


def retention_report(
    session: Session,
    *,
    scope: Scope,
    first: date,
    last: date,
    period: str,
    gross_margin: float,
    acquisition_cost: float,
    window_days: int,
    now: datetime,
) -> RetentionReport:
    """Retention from ``first`` to ``last`` (both days counted) per ``period``, over the
    accounts ``scope`` sees. ``window_days`` is the NPS report window that decides an
    account's band; the revenue at risk is judged at the end of ``last`` (or ``now``)."""
    cut = periods(first, last, period)  # checks the range and the period
    whole = Period(f"{first} to {last}", first, last)
    figures = _period_figures(session, scope, [whole, *cut])
    as_of = min(now, _moment(last + timedelta(days=1)))
    visible = Account.id.in_(visible_account_ids(scope))
    unplaced, unknown = session.execute(
        sa.select(
            _count(~_counted()),
            _count(sa.and_(_counted(), Account.customer_since.is_(None))),
        ).where(visible)
    ).one()
    return RetentionReport(
        first=first,
        last=last,
        period=period,
        as_of=as_of,
        whole=figures[0],
        periods=figures[1:],
        segments=_segment_values(session, scope, last, gross_margin, acquisition_cost),
        at_risk=_accounts_at_risk(session, scope, as_of, window_days),
        churned_without_date=int(unplaced),
        without_customer_since=int(unknown),
    )


def _period_figures(session: Session, scope: Scope, cut: list[Period]) -> list[PeriodFigures]:
    """S, E, N and lost of each period, in one query: the periods as rows (a UNION ALL of
    literals, which SQLite and PostgreSQL both read) against every visible account."""
    table = sa.union_all(
        *(
            sa.select(
                sa.literal(number, sa.Integer).label("number"),
                sa.literal(period.first, sa.Date).label("first_day"),
                sa.literal(_moment(period.first), Account.created_at.type).label("first_at"),
                sa.literal(period.last + timedelta(days=1), sa.Date).label("after_day"),
                sa.literal(_moment(period.last + timedelta(days=1)), Account.created_at.type).label(
                    "after_at"
                ),
            )
            for number, period in enumerate(cut)
        )
    ).subquery("periods")
    first, after = (
        Day(table.c.first_day, table.c.first_at),
        Day(table.c.after_day, table.c.after_at),
    )
    rows = session.execute(
        sa.select(
            table.c.number,
            _count(_customer_at_start_of(first)),
            _count(_customer_at_start_of(after)),
            _count(sa.and_(_customer_before(after), ~_customer_before(first))),
            _count(_lost_between(first, after)),
        )
        .select_from(table)
        .outerjoin(Account, sa.and_(Account.id.in_(visible_account_ids(scope)), _counted()))
        .group_by(table.c.number)
    ).all()
    counts = {number: values for number, *values in rows}
    return [
        PeriodFigures(period, *(int(value) for value in counts[number]))
        for number, period in enumerate(cut)
    ]


def _segment_values(
    session: Session, scope: Scope, last: date, gross_margin: float, acquisition_cost: float
) -> list[SegmentValue]:
    """Per segment and for everyone: ARPA over the accounts active at the end of ``last``,
    and the churn rate of the twelve months to it."""
    year_start, after = Day.of(year_to(last).first), Day.of(last + timedelta(days=1))
    active = _customer_at_start_of(after)
    with_revenue = sa.and_(active, Account.annual_revenue.is_not(None))
    columns = (
        _count(active),
        _count(with_revenue),
        sa.func.sum(sa.case((with_revenue, Account.annual_revenue), else_=None)),
        _count(_customer_at_start_of(year_start)),
        _count(_lost_between(year_start, after)),
    )
    base = sa.select(*columns).where(Account.id.in_(visible_account_ids(scope)), _counted())
    rows = [(None, True, *session.execute(base).one())]
    rows += [
        (segment, False, *values)
        for segment, *values in session.execute(
            base.with_only_columns(Account.segment, *columns)
            .group_by(Account.segment)
            .order_by(Account.segment.is_(None), Account.segment)
        )
    ]
    values = []
    for segment, everyone, accounts, counted, revenue, year_start, year_lost in rows:
        arpa = None
        if counted:
            arpa = (Decimal(revenue) / int(counted)).quantize(Decimal("0.01"))
        values.append(
            SegmentValue(
                segment=segment,
                everyone=everyone,
                accounts=int(accounts),
                with_revenue=int(counted),
                arpa=arpa,
                accounts_year_start=int(year_start),
                lost_in_year=int(year_lost),
                gross_margin=gross_margin,
                acquisition_cost=acquisition_cost,
            )
        )
    return values


def _accounts_at_risk(
    session: Session, scope: Scope, as_of: datetime, window_days: int
) -> list[AccountAtRisk]:
    """Active accounts (at ``as_of``) whose NPS over the window is in the at-risk band,
    whose NPS fell significantly from the six months before the last six to the last six,
    or with a price-as-cover verdict in the window; highest revenue first. The band, the
    fall and the cover are those of My accounts (``reports.workspace``), judged at
    ``as_of``."""
    since = as_of - timedelta(days=window_days)
    window = nps_counts(session, scope=scope, since=since, until=as_of)
    later = nps_counts(session, scope=scope, since=as_of - FALL_PERIOD, until=as_of)
    earlier = nps_counts(
        session, scope=scope, since=as_of - 2 * FALL_PERIOD, until=as_of - FALL_PERIOD
    )
    changes = {
        account_id: period_change(earlier.get(account_id), later.get(account_id))
        for account_id in set(earlier) & set(later)
    }
    covers = {
        row.account.id: row.verdict.strength
        for row in reasons_report(
            session, ReasonFilters(scope=scope, since=since, until=as_of), now=as_of
        ).accounts
        if row.verdict.price_is_cover
    }
    flagged = set(window) | set(changes) | set(covers)
    active = session.scalars(
        sa.select(Account).where(
            Account.id.in_(visible_account_ids(scope)),
            Account.id.in_(flagged or [-1]),
            _counted(),
            _customer_before(Day.of(as_of.date() + timedelta(days=1))),
            sa.or_(
                Account.churned_at.is_(None),
                Account.churned_at >= sa.literal(as_of, Account.churned_at.type),
            ),
        )
    ).all()
    result = []
    for account in active:
        summary = summarise(*window.get(account.id, (0, 0, 0)))
        change = changes.get(account.id)
        why = []
        if summary.band == "at_risk":
            why.append(AT_RISK_BAND)
        if change is not None and change.significant_fall:
            why.append(NPS_FELL)
        if account.id in covers:
            why.append(PRICE_COVER)
        if why:
            result.append(
                AccountAtRisk(
                    account,
                    summary,
                    change.points if change is not None else None,
                    tuple(why),
                    covers.get(account.id, 0),
                )
            )
    result.sort(key=lambda row: (-(row.account.annual_revenue or 0), row.account.name))
    return result
