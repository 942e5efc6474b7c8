"""Retention: the maths against DESIGN.md's reference values, the periods it counts in,
and the report over stored accounts (counts, CLV per segment, revenue at risk, scope, the
command line and the page)."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from surveys.accounts.models import Account
from surveys.auth.access import Scope
from surveys.campaigns.models import Response
from surveys.extensions import db
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
from surveys.reports.retention_report import retention_report
from tests.helpers import create_campaign, send, token_of

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


# --- The report over stored accounts -------------------------------------------------------


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


AM = "am@supplier.example"
NOW = at("2026-12-01T09:00:00")


@pytest.fixture
def book(app, runner, client, make_account, smtp_sink):
    """Accounts with known histories, and answers that put some of them at risk.

    ==  ===========  ==============================  ==========  =======  ==================
    id  customer     left                            segment     revenue  answers
    ==  ===========  ==============================  ==========  =======  ==================
    A   2020-01-01   -                               SMB         100      3 detractors, April
    B   2020-01-01   2026-03-31 23:30 (Q1's last)    SMB         100
    C   2026-02-01   -                               SMB         300      promoters in 2025,
                                                                          passives in 2026
    D   2026-03-15   2026-05-20                      Enterprise  1000     3 detractors, April
    E   2026-07-01   -                               -           -
    F   (created     -                               Enterprise  1000     3 promoters
        2026-04-10)
    G   (created     2025-06-01 (before it was       -           -
        2026-11-01)  created: history imported)
    H   2018-01-01   churned, no date                -           -
    I   2019-05-05   2025-12-31 23:00                SMB         100
    J   2026-01-01   -                               SMB         200      one "price", its
                                                                          manager last in
                                                                          touch 2025-10-01
    ==  ===========  ==============================  ==========  =======  ==================
    A and C belong to the account manager AM.
    """
    made = {}
    for name, contacts in {"A": 3, "B": 1, "C": 4, "D": 3, "E": 1, "F": 3, "G": 1, "H": 1}.items():
        made[name] = make_account(
            *(["en"] * contacts),
            external_id=name,
            name=f"Account {name}",
            account_manager_email=AM if name in "AC" else None,
        )
    made["I"] = make_account("en", external_id="I", name="Account I")
    made["J"] = make_account("en", external_id="J", name="Account J")
    tokens = {}
    for _round in range(2):
        send(runner, create_campaign(runner))
    for message in smtp_sink.messages:
        tokens.setdefault(message["To"].addresses[0].addr_spec, []).append(token_of(message))

    def answer(account, index, score, when, round_=0, reason=None):
        email = made[account].emails[index]
        data = {"score": str(score), **({"reason": reason} if reason else {})}
        assert client.post(f"/r/{tokens[email][round_]}", data=data).status_code == 303
        with app.app_context():
            response_id = db.session.scalar(sa.select(Response.id).order_by(Response.id.desc()))
            db.session.execute(
                sa.update(Response).where(Response.id == response_id).values(answered_at=at(when))
            )
            db.session.commit()

    for index in range(3):
        answer("A", index, 2, "2026-04-10T10:00:00")
        answer("D", index, 1, "2026-04-10T10:00:00")
        answer("F", index, 10, "2026-04-10T10:00:00")
    for index in range(4):
        answer("C", index, 10, "2025-09-10T10:00:00", round_=0)
        answer("C", index, 7, "2026-04-10T10:00:00", round_=1)
    answer("J", 0, 5, "2026-05-01T10:00:00", reason="price")

    def day(text):
        return date.fromisoformat(text)

    histories = {
        "A": {"customer_since": day("2020-01-01"), "segment": "SMB", "annual_revenue": 100},
        "B": {
            "customer_since": day("2020-01-01"),
            "status": "churned",
            "churned_at": at("2026-03-31T23:30:00"),
            "segment": "SMB",
            "annual_revenue": 100,
        },
        "C": {"customer_since": day("2026-02-01"), "segment": "SMB", "annual_revenue": 300},
        "D": {
            "customer_since": day("2026-03-15"),
            "status": "churned",
            "churned_at": at("2026-05-20T12:00:00"),
            "segment": "Enterprise",
            "annual_revenue": 1000,
        },
        "E": {"customer_since": day("2026-07-01")},
        "F": {"created_at": at("2026-04-10T08:00:00"), "segment": "Enterprise"},
        "G": {
            "created_at": at("2026-11-01T08:00:00"),
            "status": "churned",
            "churned_at": at("2025-06-01T00:00:00"),
        },
        "H": {"customer_since": day("2018-01-01"), "status": "churned"},
        "I": {
            "customer_since": day("2019-05-05"),
            "status": "churned",
            "churned_at": at("2025-12-31T23:00:00"),
            "segment": "SMB",
            "annual_revenue": 100,
        },
        "J": {
            "customer_since": day("2026-01-01"),
            "segment": "SMB",
            "annual_revenue": 200,
            "last_contacted_at": at("2025-10-01T00:00:00"),
        },
    }
    with app.app_context():
        for name, values in histories.items():
            db.session.execute(
                sa.update(Account).where(Account.external_id == name).values(**values)
            )
        db.session.execute(
            sa.update(Account).where(Account.external_id == "F").values(annual_revenue=1000)
        )
        db.session.commit()
    return made


def report_of(app, scope=None, **options):
    settings = {
        "first": date(2026, 1, 1),
        "last": date(2026, 6, 30),
        "period": "quarter",
        "gross_margin": 0.5,
        "acquisition_cost": 20.0,
        "window_days": 365,
        "now": NOW,
        **options,
    }
    with app.app_context():
        return retention_report(db.session, scope=scope or Scope.system(), **settings)


def counts(figures):
    return (figures.accounts_start, figures.acquired, figures.lost, figures.accounts_end)


def test_accounts_are_counted_into_the_periods_they_belong_to(app, book):
    report = report_of(app)
    first_quarter, second_quarter = report.periods
    # Q1: A and B at the start; C, D and J (a customer from the quarter's first day)
    # acquired; B lost on the quarter's last evening; I left the evening before it began
    assert counts(first_quarter) == (2, 3, 1, 4)
    assert first_quarter.crr == pytest.approx(0.5) and first_quarter.churn_rate == 0.5
    # Q2: F counts from the day it was created, D is lost; E comes after the range
    assert counts(second_quarter) == (4, 1, 1, 4)
    assert second_quarter.crr == pytest.approx(0.75)
    assert second_quarter.churn_rate == pytest.approx(0.25)
    assert counts(report.whole) == (2, 4, 2, 4)
    for figures in [report.whole, *report.periods]:
        start, acquired, lost, end = counts(figures)
        assert end == start + acquired - lost
    # H churned on no known day: left out, and said so; F and G have no customer_since
    assert (report.churned_without_date, report.without_customer_since) == (1, 2)


def test_a_range_without_accounts_at_its_start_has_no_crr(app, book):
    report = report_of(app, first=date(2010, 1, 1), last=date(2010, 12, 31), period="year")
    assert counts(report.whole) == (0, 0, 0, 0)
    assert report.whole.crr is None and report.whole.churn_rate is None


def test_clv_per_segment_from_its_revenue_margin_and_yearly_churn(app, book):
    segments = {
        value.segment if not value.everyone else "*": value for value in report_of(app).segments
    }
    smb = segments["SMB"]
    # active at the end of June: A, C, J (100, 300, 200); a year before: A, B, I, of
    # whom B and I left
    assert (smb.accounts, smb.arpa) == (3, Decimal("200.00"))
    assert (smb.accounts_year_start, smb.lost_in_year) == (3, 2)
    assert smb.clv_before_acquisition == pytest.approx(200 * 0.5 / (2 / 3))
    assert smb.clv == pytest.approx(150 - 20)
    assert smb.cost_of_lost_customer == pytest.approx(150 + 20)
    # nobody in Enterprise was a customer a year before: no churn rate, no CLV
    enterprise = segments["Enterprise"]
    assert enterprise.yearly_churn_rate is None and enterprise.clv is None
    everyone = segments["*"]
    assert (everyone.accounts, everyone.arpa) == (4, Decimal("400.00"))
    assert everyone.yearly_churn_rate == 1  # I, B and D left; A, B and I were there


def test_revenue_at_risk_counts_active_accounts_at_risk_falling_or_with_a_cover(app, book):
    report = report_of(app)
    assert report.as_of == at("2026-07-01T00:00:00")
    why = {row.account.external_id: row.why for row in report.at_risk}
    # A is at risk, C fell from 100 to 0, J's "price" is a cover (its manager was last in
    # touch seven months before); D was at risk too but has left; F is content
    assert why == {"A": ("at_risk_band",), "C": ("nps_fell",), "J": ("price_cover",)}
    assert report.revenue_at_risk == Decimal("600.00")
    assert [row.account.external_id for row in report.at_risk] == ["C", "J", "A"]


def test_an_account_manager_sees_only_their_own_book(app, book):
    report = report_of(app, scope=Scope(None, AM, "account_manager"))
    assert counts(report.periods[0]) == (1, 1, 0, 2)  # A at the start, C acquired
    assert {row.account.external_id for row in report.at_risk} == {"A", "C"}
    assert report.revenue_at_risk == Decimal("400.00")
    assert {value.segment for value in report.segments} == {None, "SMB"}


# --- The command line and the page ---------------------------------------------------------


def test_report_retention_prints_json(runner, book):
    result = runner.invoke(
        args=["report", "retention", "--from", "2026-01-01", "--to", "2026-06-30"]
        + ["--period", "quarter", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    whole = {key: data[key] for key in ("accounts_start", "acquired", "lost", "accounts_end")}
    assert whole == {"accounts_start": 2, "acquired": 4, "lost": 2, "accounts_end": 4}
    assert (data["crr"], data["churn_rate"]) == (0.0, 100.0)  # percentages, like the pages
    assert data["revenue_at_risk"] == 600.0
    assert [(p["period"], p["crr"], p["churn_rate"]) for p in data["periods"]] == [
        ("2026-Q1", 50.0, 50.0),
        ("2026-Q2", 75.0, 25.0),
    ]
    smb = next(row for row in data["segments"] if row["segment"] == "SMB")
    # GROSS_MARGIN 0.6 by default, ACQUISITION_COST 0
    assert smb["clv"] == pytest.approx(200 * 0.6 / (2 / 3), abs=0.01)
    assert smb["cost_of_lost_customer"] == smb["clv"]
    assert {row["account_id"] for row in data["accounts_at_risk"]} == {"A", "C", "J"}
    assert (data["churned_without_date"], data["accounts_without_customer_since"]) == (1, 2)
    text = runner.invoke(args=["report", "retention", "--from", "2026-01-01", "--to", "2026-06-30"])
    assert text.exit_code == 0 and "Revenue at risk: 600.00" in text.output
    assert "2026-06  2026-06-01  2026-06-30" in text.output


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--from", "2026-02-01", "--to", "2026-01-01"], "2026-01-01 is before --from 2026-02-01"),
        (["--from", "2026-02-30", "--to", "2026-03-01"], "'2026-02-30' is not a day of the"),
        (["--from", "2026-13-01", "--to", "2027-01-01"], "'2026-13-01' is not a day of the"),
        (["--from", "0001-01-01", "--to", "2026-01-01"], "is out of range"),
        (["--from", "2026-01-01", "--to", "9999-12-31"], "is out of range"),
        (["--from", "\u0662\u0660\u0662\u0666-01-01", "--to", "2026-02-01"], "digits 0-9"),
        (["--from", "\uff12\uff10\uff12\uff16-01-01", "--to", "2026-02-01"], "digits 0-9"),
        (["--from", "20260101", "--to", "2026-02-01"], "is not a date like 2026-03-31"),
        (["--from", "yesterday", "--to", "2026-02-01"], "is not a date like 2026-03-31"),
        (["--from", "1900-01-01", "--to", "2999-12-31"], "a report shows at most 240"),
        (["--from", "2026-01-01", "--to", "2026-02-01", "--period", "week"], "'week' is not one"),
        (["--from", "2026-01-01"], "Missing option '--to'"),
    ],
)
def test_report_retention_refuses_hostile_input_clearly(runner, options, message):
    result = runner.invoke(args=["report", "retention", *options])
    assert result.exit_code != 0
    assert message in result.output
    assert (
        "Traceback" not in result.output
        and result.exception is None
        or isinstance(result.exception, SystemExit)
    )


def test_the_retention_page_shows_the_figures_and_their_downloads(client, book):
    page = client.get("/reports/retention?since=2026-01-01&until=2026-06-30&period=quarter")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for expected in ("50.0 %", "75.0 %", "2026-Q1", "Account C", "Account J", "600"):
        assert expected in text, expected
    assert 'data-label="Churn rate"' in text and 'class="data rows"' in text
    assert (
        "/exports/retention.csv?since=2026-01-01&amp;until=2026-06-30&amp;period=quarter&amp;sep=;"
        in text
    )
    assert "/exports/revenue-at-risk.xlsx?" in text
    assert 'name="viewport"' in text  # readable at 375 px: the rows fold into blocks
    # the default: this month and the eleven before it
    assert client.get("/reports/retention").status_code == 200


def test_the_retention_page_shows_an_account_manager_their_own_book(app, book, make_user):
    from tests.conftest import sign_in

    client = sign_in(app.test_client(), make_user(AM, "account_manager"))
    text = client.get("/reports/retention?since=2026-01-01&until=2026-06-30").get_data(as_text=True)
    assert "Account A" in text and "Account C" in text
    assert "Account J" not in text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("since=2026-02-01&until=2026-01-01", "The end of the period is before its start."),
        ("since=\u0662\u0660\u0662\u0666-01-01", "is not a date like 2026-03-31"),
        ("until=9999-12-31", "Choose a date from 1900-01-01 to 2999-12-31."),
        ("period=week", "Not a valid choice"),
        ("since=1900-01-01&until=2999-12-31", "a report shows at most 240"),
    ],
)
def test_the_retention_page_refuses_hostile_filters_with_a_400(client, query, message):
    response = client.get(f"/reports/retention?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("GROSS_MARGIN", 0, "GROSS_MARGIN=0 must be a share above 0 and at most 1"),
        ("GROSS_MARGIN", 60, "GROSS_MARGIN=60 must be a share above 0 and at most 1"),
        ("GROSS_MARGIN", float("nan"), "GROSS_MARGIN=nan must be a share"),
        ("ACQUISITION_COST", -1, "ACQUISITION_COST must be 0 or more"),
        ("ACQUISITION_COST", float("inf"), "ACQUISITION_COST must be 0 or more"),
    ],
)
def test_retention_settings_out_of_range_are_refused(name, value, message):
    from config import TestingConfig
    from surveys import create_app

    class Config(TestingConfig):
        pass

    setattr(Config, name, value)
    with pytest.raises(RuntimeError, match=message):
        create_app(Config)


def test_retention_settings_come_from_the_environment(tmp_path):
    import subprocess
    import sys

    env = {
        "PATH": "/usr/bin:/bin",
        "SURVEYS_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        "GROSS_MARGIN": "0.45",
        "ACQUISITION_COST": "12500",
    }
    code = "from wsgi import app; print(app.config['GROSS_MARGIN'], app.config['ACQUISITION_COST'])"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["0.45", "12500.0"]
    env["GROSS_MARGIN"] = "sixty"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0 and "GROSS_MARGIN='sixty' is not a number." in result.stderr
