"""Retention figures as DESIGN.md fixes them: the customer retention rate, the churn rate,
customer lifetime value and the cost of a lost customer, and the calendar periods a
retention report counts in.

Plain functions on plain values: no Flask, no database. Rates are proportions (0.85, not
85 %), as in ``nps.py``; reports multiply by 100.
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

PERIODS = ("month", "quarter", "year")
MONTHS_IN = {"month": 1, "quarter": 3, "year": 12}
# A report of more periods than this is no table anybody reads (20 years of months).
MAX_PERIODS = 240


def customer_retention_rate(start: int, end: int, acquired: int) -> float:
    """CRR = (E - N) / S: of the S accounts at the start of a period, the share still
    customers at its end, E less the N acquired during it. S=100, E=105, N=20 -> 0.85."""
    if start <= 0:
        raise ValueError("no accounts at the start of the period: CRR is not defined")
    if end < 0 or acquired < 0:
        raise ValueError("account counts cannot be negative")
    return (end - acquired) / start


def churn_rate(lost: int, start: int) -> float:
    """Accounts lost in a period over the accounts at its start."""
    if start <= 0:
        raise ValueError("no accounts at the start of the period: churn rate is not defined")
    if lost < 0:
        raise ValueError("account counts cannot be negative")
    return lost / start


def customer_lifetime_value(
    yearly_revenue: float,
    gross_margin: float,
    yearly_churn_rate: float,
    acquisition_cost: float = 0.0,
) -> float:
    """CLV = yearly revenue x gross margin / yearly churn rate, minus acquisition cost:
    the margin an account brings in the 1 / churn years it stays on average.
    ARPA 100, margin 0.8, churn 0.05 -> 1 600 before acquisition cost."""
    if yearly_revenue < 0:
        raise ValueError("a yearly revenue cannot be negative")
    if not 0 < gross_margin <= 1:
        raise ValueError(f"the gross margin is a share above 0 and at most 1, not {gross_margin}")
    if not 0 < yearly_churn_rate <= 1:
        raise ValueError(
            "CLV needs a yearly churn rate above 0 (with no churn an account never leaves "
            f"and its value has no end) and at most 1, not {yearly_churn_rate}"
        )
    if acquisition_cost < 0:
        raise ValueError("an acquisition cost cannot be negative")
    return yearly_revenue * gross_margin / yearly_churn_rate - acquisition_cost


def cost_of_lost_customer(
    yearly_revenue: float,
    gross_margin: float,
    yearly_churn_rate: float,
    acquisition_cost: float,
) -> float:
    """What losing one customer costs: the margin it would still have brought (its CLV
    before acquisition cost, since what winning it cost was spent long ago) plus the cost
    of winning a replacement (sales and marketing spend / new customers)."""
    lifetime_margin = customer_lifetime_value(yearly_revenue, gross_margin, yearly_churn_rate)
    if acquisition_cost < 0:
        raise ValueError("an acquisition cost cannot be negative")
    return lifetime_margin + acquisition_cost


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (earlier when negative), or the month's last day
    when it is shorter: 31 March + 1 month is 30 April."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


@dataclass(frozen=True)
class Period:
    """A calendar month, quarter or year, cut to the report's range: ``first`` and
    ``last`` are its first and last days, both counted."""

    label: str
    first: date
    last: date
    # cut short by the report's range
    partial: bool = False


def _label(first_of_period: date, period: str) -> str:
    if period == "month":
        return f"{first_of_period:%Y-%m}"
    if period == "quarter":
        return f"{first_of_period.year}-Q{(first_of_period.month + 2) // 3}"
    return str(first_of_period.year)


def periods(first: date, last: date, period: str) -> list[Period]:
    """The calendar periods from the one holding ``first`` to the one holding ``last``,
    the first and last cut to the range."""
    if period not in PERIODS:
        raise ValueError(f"the period must be one of {', '.join(PERIODS)}, not {period!r}")
    if last < first:
        raise ValueError(f"the range ends ({last}) before it starts ({first})")
    months = MONTHS_IN[period]
    start_month = (first.month - 1) // months * months + 1
    start = date(first.year, start_month, 1)
    span = (last.year - start.year) * 12 + last.month - start.month
    count = span // months + 1
    if count > MAX_PERIODS:
        raise ValueError(
            f"{first} to {last} holds {count} {period}s; a report shows at most "
            f"{MAX_PERIODS}: choose a shorter range or a longer period"
        )
    result = []
    for number in range(count):
        begins = add_months(start, number * months)
        ends = add_months(begins, months) - timedelta(days=1)
        result.append(
            Period(
                _label(begins, period),
                max(begins, first),
                min(ends, last),
                partial=begins < first or last < ends,
            )
        )
    return result


def year_to(last: date) -> Period:
    """The twelve months that end on ``last``: the window of a yearly churn rate."""
    return Period(f"12 months to {last}", add_months(last, -12) + timedelta(days=1), last)
