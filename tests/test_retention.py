"""Retention: the maths against DESIGN.md's reference values, the periods it counts in,
and the report over stored accounts (counts, CLV per segment, revenue at risk, scope, the
command line and the page)."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from surveys.reports.retention import (
    MAX_PERIODS,
    add_months,
    churn_rate,
    cost_of_lost_customer,
    customer_lifetime_value,
    customer_retention_rate,
    periods,
    year_to,
)

# --- The maths ---------------------------------------------------------------------------


def test_crr_reference_value():
    """S=100, E=105, N=20 -> 85 %."""
    assert customer_retention_rate(start=100, end=105, acquired=20) == pytest.approx(0.85)


def test_churn_rate_is_lost_over_the_accounts_at_the_start():
    assert churn_rate(lost=5, start=100) == pytest.approx(0.05)
    assert churn_rate(lost=0, start=3) == 0


def test_clv_reference_value():
    """ARPA 100, margin 80 %, churn 5 % -> 1 600 before acquisition cost."""
    assert customer_lifetime_value(100, 0.8, 0.05) == pytest.approx(1600)
    assert customer_lifetime_value(100, 0.8, 0.05, acquisition_cost=250) == pytest.approx(1350)


def test_a_lost_customer_costs_its_lifetime_margin_and_a_replacement():
    assert cost_of_lost_customer(100, 0.8, 0.05, acquisition_cost=250) == pytest.approx(1850)
    assert cost_of_lost_customer(100, 0.8, 0.05, acquisition_cost=0) == pytest.approx(1600)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: customer_retention_rate(0, 5, 5), "no accounts at the start"),
        (lambda: customer_retention_rate(10, -1, 0), "negative"),
        (lambda: churn_rate(1, 0), "no accounts at the start"),
        (lambda: churn_rate(-1, 10), "negative"),
        (lambda: customer_lifetime_value(100, 0.8, 0), "yearly churn rate above 0"),
        (lambda: customer_lifetime_value(100, 0, 0.05), "gross margin"),
        (lambda: customer_lifetime_value(100, 1.2, 0.05), "gross margin"),
        (lambda: customer_lifetime_value(-1, 0.8, 0.05), "negative"),
        (lambda: customer_lifetime_value(100, 0.8, 0.05, -1), "negative"),
        (lambda: cost_of_lost_customer(100, 0.8, 0.05, -1), "negative"),
    ],
)
def test_undefined_figures_say_why(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@given(
    start=st.integers(1, 10_000),
    kept=st.integers(0, 10_000),
    acquired=st.integers(0, 10_000),
)
def test_crr_and_churn_add_up_when_every_loss_was_there_at_the_start(start, kept, acquired):
    """E = S - lost + N, so CRR + churn rate = 1 when every account lost was one of S."""
    kept = min(kept, start)
    lost = start - kept
    end = kept + acquired
    assert customer_retention_rate(start, end, acquired) + churn_rate(lost, start) == (
        pytest.approx(1)
    )


# --- Periods -----------------------------------------------------------------------------


def test_add_months_keeps_the_day_or_takes_the_last():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 3, 15), -3) == date(2025, 12, 15)
    assert add_months(date(2026, 12, 1), 1) == date(2027, 1, 1)


def test_periods_are_calendar_periods_cut_to_the_range():
    months = periods(date(2026, 1, 15), date(2026, 3, 10), "month")
    assert [(p.label, p.first, p.last) for p in months] == [
        ("2026-01", date(2026, 1, 15), date(2026, 1, 31)),
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("2026-03", date(2026, 3, 1), date(2026, 3, 10)),
    ]
    quarters = periods(date(2025, 11, 1), date(2026, 6, 30), "quarter")
    assert [(p.label, p.first, p.last) for p in quarters] == [
        ("2025-Q4", date(2025, 11, 1), date(2025, 12, 31)),
        ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-Q2", date(2026, 4, 1), date(2026, 6, 30)),
    ]
    years = periods(date(2024, 7, 1), date(2026, 2, 1), "year")
    assert [p.label for p in years] == ["2024", "2025", "2026"]
    assert periods(date(2026, 5, 5), date(2026, 5, 5), "year")[0].first == date(2026, 5, 5)


def test_periods_refuse_a_backward_or_endless_range():
    with pytest.raises(ValueError, match="ends .* before it starts"):
        periods(date(2026, 2, 1), date(2026, 1, 1), "month")
    with pytest.raises(ValueError, match=f"at most {MAX_PERIODS}"):
        periods(date(1900, 1, 1), date(2999, 12, 31), "month")
    with pytest.raises(ValueError, match="one of month, quarter, year"):
        periods(date(2026, 1, 1), date(2026, 2, 1), "week")


@given(
    first=st.dates(date(1990, 1, 1), date(2100, 1, 1)),
    days=st.integers(0, 3000),
    period=st.sampled_from(["month", "quarter", "year"]),
)
def test_periods_cover_the_range_day_by_day(first, days, period):
    last = date.fromordinal(first.toordinal() + days)
    found = periods(first, last, period)
    assert found[0].first == first and found[-1].last == last
    for earlier, later in zip(found, found[1:], strict=False):
        assert later.first.toordinal() == earlier.last.toordinal() + 1


def test_the_year_of_a_yearly_churn_rate_ends_on_the_day_given():
    window = year_to(date(2026, 11, 30))
    assert (window.first, window.last) == (date(2025, 12, 1), date(2026, 11, 30))
    assert year_to(date(2024, 2, 29)).first == date(2023, 3, 1)
