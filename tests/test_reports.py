"""NPS per account: the report command's JSON and the staff pages."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from surveys.campaigns.models import Response
from surveys.extensions import db
from tests.helpers import create_campaign, send, token_of

KEYS = {"nps", "n", "promoters", "passives", "detractors", "ci_low", "ci_high", "band"}


def report(runner, *options):
    result = runner.invoke(args=["report", "nps", *options, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def answer_all(client, smtp_sink, scores_by_email, reason="price"):
    for message in smtp_sink.messages:
        email = message["To"].addresses[0].addr_spec
        if email in scores_by_email:
            response = client.post(
                f"/r/{token_of(message)}", data={"score": scores_by_email[email], "reason": reason}
            )
            assert response.status_code == 303


def test_report_json_shape_and_figures(app, runner, client, make_account, smtp_sink):
    acme = make_account("sv", "sv", "en", "nb", "en", "en", external_id="ACME", name="Acme AB")
    make_account("en", external_id="QUIET", name="Quiet Oy")
    send(runner, create_campaign(runner))
    # Acme: scores 0,7,7,9,9,9 -> NPS 33.3; Quiet never answers
    answer_all(client, smtp_sink, dict(zip(acme.emails, [0, 7, 7, 9, 9, 9], strict=True)))
    data = report(runner)
    assert set(data) >= {"overall", "accounts"}
    accounts = {row["account_id"]: row for row in data["accounts"]}
    assert set(accounts) == {"ACME", "QUIET"}
    acme_row = accounts["ACME"]
    assert KEYS | {"response_rate", "account_id", "name"} <= set(acme_row)
    assert acme_row["name"] == "Acme AB"
    assert acme_row["nps"] == pytest.approx(33.3, abs=0.05)
    assert (acme_row["n"], acme_row["promoters"], acme_row["passives"], acme_row["detractors"]) == (
        6,
        3,
        2,
        1,
    )
    assert acme_row["ci_low"] < acme_row["nps"] < acme_row["ci_high"]
    assert -100 <= acme_row["ci_low"] and acme_row["ci_high"] <= 100
    assert acme_row["band"] == "positive"
    assert acme_row["response_rate"] == 1.0
    quiet_row = accounts["QUIET"]
    assert (quiet_row["nps"], quiet_row["n"], quiet_row["band"]) == (None, 0, None)
    assert quiet_row["response_rate"] == 0.0
    overall = data["overall"]
    assert overall["n"] == 6 and overall["nps"] == pytest.approx(33.3, abs=0.05)
    assert overall["response_rate"] == pytest.approx(6 / 7, abs=1e-3)


def test_report_for_one_account(runner, client, make_account, smtp_sink):
    first = make_account("en", "en", external_id="ONE")
    make_account("en", external_id="TWO")
    send(runner, create_campaign(runner))
    answer_all(client, smtp_sink, {first.emails[0]: 10, first.emails[1]: 2})
    data = report(runner, "--account", "ONE")
    assert [row["account_id"] for row in data["accounts"]] == ["ONE"]
    assert data["overall"]["nps"] == 0 and data["overall"]["n"] == 2
    # fewer than 3 answers: the answers show, the band does not
    assert data["accounts"][0]["band"] is None
    result = runner.invoke(args=["report", "nps", "--account", "NOPE", "--json"])
    assert result.exit_code != 0 and "there is no account 'NOPE'" in result.output


def test_one_contact_one_vote_from_the_latest_answer(app, runner, client, make_account, smtp_sink):
    made = make_account("en", "en", "en", external_id="VOTE")
    send(runner, create_campaign(runner))
    answer_all(client, smtp_sink, dict.fromkeys(made.emails, 2))
    with app.app_context():  # the first campaign was answered a while ago
        for response in db.session.scalars(sa.select(Response)):
            response.answered_at -= timedelta(days=100)
        db.session.commit()
    smtp_sink.clear()
    send(runner, create_campaign(runner))
    answer_all(client, smtp_sink, {made.emails[0]: 10})
    row = report(runner, "--account", "VOTE")["accounts"][0]
    # contact 0 counts once, with the latest score; the others keep their earlier 2
    assert (row["n"], row["promoters"], row["detractors"]) == (3, 1, 2)
    assert row["response_rate"] == pytest.approx(4 / 6, abs=1e-3)


def test_answers_outside_the_window_do_not_count(app, runner, client, make_account, smtp_sink):
    made = make_account("en", external_id="OLD")
    send(runner, create_campaign(runner))
    answer_all(client, smtp_sink, {made.emails[0]: 9})
    with app.app_context():
        response = db.session.scalar(sa.select(Response))
        response.answered_at = datetime.now(UTC) - timedelta(days=400)
        db.session.commit()
    assert report(runner, "--account", "OLD")["accounts"][0]["n"] == 0
    assert report(runner, "--account", "OLD", "--window-days", "500")["accounts"][0]["n"] == 1


def test_accounts_page_lists_nps_and_the_account_moves(runner, client, make_account, smtp_sink):
    made = make_account("sv", "nb", "en", external_id="MOVE", name="Rörlig AB")
    send(runner, create_campaign(runner))
    before = client.get("/accounts/").get_data(as_text=True)
    assert "Rörlig AB" in before and "Response rate" in before and "95% interval" in before
    answer_all(client, smtp_sink, {made.emails[0]: 10, made.emails[1]: 9, made.emails[2]: 3})
    page = client.get("/accounts/").get_data(as_text=True)
    assert "+33" in page  # (2 promoters - 1 detractor) / 3
    assert "Positive" in page
    detail = client.get("/accounts/MOVE")
    assert detail.status_code == 200
    text = detail.get_data(as_text=True)
    for email in made.emails:
        assert email in text
    assert "+33" in text and "100%" in text


def test_account_page_shows_each_contacts_latest_answer(runner, client, make_account, smtp_sink):
    made = make_account("sv", "en", external_id="DETAIL")
    send(runner, create_campaign(runner))
    message = smtp_sink.to(made.emails[0])[0]
    client.post(
        f"/r/{token_of(message)}",
        data={"score": "4", "reason": "attention", "comment": "Ingen hör av sig"},
    )
    text = client.get("/accounts/DETAIL").get_data(as_text=True)
    assert "Ingen hör av sig" in text and "attention" in text
    assert "no answer" in text  # the second contact has not answered


def test_an_unknown_account_page_is_404(client):
    assert client.get("/accounts/NOPE").status_code == 404


def test_staff_pages_need_a_sign_in_and_customer_pages_do_not(anonymous):
    for path in ["/accounts/", "/campaigns/", "/accounts/import"]:
        response = anonymous.get(path)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/login?next={path}"
    assert anonymous.get("/r/whatever").status_code == 404  # customer pages stay open


def test_account_page_tells_exit_answers_apart(runner, client, make_account, smtp_sink):
    made = make_account(
        "en", external_id="LEFT", status="churned", churned_at=datetime.now(UTC) - timedelta(days=1)
    )
    send(runner, create_campaign(runner, kind="exit"))
    client.post(
        f"/r/{token_of(smtp_sink.to(made.emails[0])[0])}",
        data={"reason": "price", "felt_prioritised": "2", "manager_contact": "never", "score": "1"},
    )
    text = client.get("/accounts/LEFT").get_data(as_text=True)
    assert "<td>exit</td>" in text
    assert "felt prioritised 2/5" in text and "manager contact: never" in text
    # an exit answer's come-back score is no NPS
    assert report(runner, "--account", "LEFT")["accounts"][0]["n"] == 0


# --- NPS over time -------------------------------------------------------------------------


def answered_on(app, client, smtp_sink, scores_by_month, role="user"):
    """Answers at given months: {"2026-01": [10, 9, 3], ...}, one contact each."""
    from surveys.campaigns.models import Response

    tokens = [token_of(message) for message in smtp_sink.messages]
    dates = []
    for month, scores in scores_by_month.items():
        for score in scores:
            dates.append((f"{month}-15T12:00:00+00:00", score))
    assert len(tokens) >= len(dates)
    for token, (moment, score) in zip(tokens, dates, strict=False):
        assert client.post(f"/r/{token}", data={"score": str(score)}).status_code == 303
        with app.app_context():
            response_id = db.session.scalar(sa.select(Response.id).order_by(Response.id.desc()))
            db.session.execute(
                sa.update(Response)
                .where(Response.id == response_id)
                .values(answered_at=datetime.fromisoformat(moment))
            )
            db.session.commit()


def trend(runner, *options):
    result = runner.invoke(args=["report", "trend", "--json", *options])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_nps_over_time_per_month_and_quarter(app, runner, client, make_account, smtp_sink):
    make_account(*(["en"] * 12), external_id="T1", segment="SMB")
    send(runner, create_campaign(runner))
    answered_on(
        app,
        client,
        smtp_sink,
        {"2026-01": [10, 10, 10, 9], "2026-02": [3, 2, 10, 8], "2026-04": [10, 10, 10, 10]},
    )
    monthly = trend(runner)
    [series] = monthly["series"]
    assert [point["period"] for point in series["points"]] == ["2026-01", "2026-02", "2026-04"]
    january, february, april = series["points"]
    assert (january["nps"], january["n"], january["change"]) == (100.0, 4, None)
    assert (february["nps"], february["change"]) == (-25.0, -125.0)
    assert february["change_significant"] is True
    assert january["band"] == "world_class" and january["band_indicative"] is True
    quarterly = trend(runner, "--period", "quarter")
    assert [p["period"] for p in quarterly["series"][0]["points"]] == ["2026-Q1", "2026-Q2"]
    assert quarterly["series"][0]["points"][0]["n"] == 8


def test_nps_over_time_by_group_and_only_what_the_scope_sees(
    app, runner, client, make_account, smtp_sink, make_user
):
    make_account(
        *(["en"] * 3), external_id="MINE", name="Mine AB", account_manager_email="am@x.example"
    )
    make_account(*(["en"] * 3), external_id="THEIRS", name="Theirs AB")
    send(runner, create_campaign(runner))
    answered_on(app, client, smtp_sink, {"2026-03": [10, 10, 10, 2, 2, 2]})
    by_account = trend(runner, "--by", "account")
    assert {series["label"] for series in by_account["series"]} == {"Mine AB", "Theirs AB"}
    from surveys.auth.access import Scope
    from surveys.reports.queries import AnswerFilters
    from surveys.reports.trends import nps_trend

    with app.app_context():
        scoped = nps_trend(
            db.session,
            AnswerFilters(scope=Scope(1, "am@x.example", "account_manager")),
            by="account",
        )
    assert [series.label for series in scoped.series] == ["Mine AB"]
    bad = runner.invoke(args=["report", "trend", "--by", "colour"])
    assert bad.exit_code != 0 and "'colour' is not one of" in bad.output


def test_one_contact_one_vote_in_each_period(app, runner, client, make_account, smtp_sink):
    from surveys.campaigns.models import Response

    make_account("en", external_id="VOTE")
    first = create_campaign(runner)
    send(runner, first)
    second = create_campaign(runner)
    send(runner, second)
    for message, (score, day) in zip(
        smtp_sink.messages, ((2, "2026-05-03"), (10, "2026-05-20")), strict=True
    ):
        client.post(f"/r/{token_of(message)}", data={"score": str(score)})
        with app.app_context():
            response_id = db.session.scalar(sa.select(Response.id).order_by(Response.id.desc()))
            db.session.execute(
                sa.update(Response)
                .where(Response.id == response_id)
                .values(answered_at=datetime.fromisoformat(f"{day}T10:00:00+00:00"))
            )
            db.session.commit()
    [point] = trend(runner)["series"][0]["points"]
    assert (point["n"], point["nps"]) == (1, 100.0)  # the latest answer of May counts


def test_the_trend_page_draws_the_chart_beside_its_table(
    app, runner, client, make_account, smtp_sink
):
    make_account(*(["en"] * 8), external_id="T1", segment="SMB")
    send(runner, create_campaign(runner))
    answered_on(app, client, smtp_sink, {"2026-01": [10, 10, 10, 9], "2026-02": [3, 2, 10, 8]})
    page = client.get("/reports/trend?period=month&segment=SMB")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert '<svg class="chart"' in text and '<polygon class="band"' in text
    assert '<th scope="row" data-label="Period">2026-02</th>' in text
    assert "-25" in text and "significant" in text and "World class?" in text
    assert "style=" not in text and "<script" not in text
    by_role = client.get("/reports/trend?by=role").get_data(as_text=True)
    assert '<ul class="legend">' in by_role and "<h2>decision maker</h2>" in by_role
    for query in (
        "by=colour",
        "period=week",
        "since=2026-13-01",
        "since=2026-05-01&until=2026-04-01",
        "account=" + "x" * 65,
        "segment=a%00b",
    ):
        assert client.get(f"/reports/trend?{query}").status_code == 400, query


# --- Buying committee, did we see it coming, reasons over time, response rates ----------


def committee_world(app, runner, client, make_account, smtp_sink):
    """SILENT: two decision makers invited, only users answer (10s). SPLIT: a detractor
    decision maker beside promoter users."""
    make_account(
        {"language": "en", "role": "decision_maker"},
        {"language": "en", "role": "decision_maker"},
        {"language": "en", "role": "user"},
        external_id="SILENT",
        name="Silent Board AB",
    )
    make_account(
        {"language": "en", "role": "decision_maker"},
        {"language": "en", "role": "user"},
        {"language": "en", "role": "user"},
        external_id="SPLIT",
        name="Split Views AB",
    )
    send(runner, create_campaign(runner))
    scores = {
        "contact2@silent.example": "10",
        "contact0@split.example": "2",
        "contact1@split.example": "10",
        "contact2@split.example": "9",
    }
    for message in smtp_sink.messages:
        address = message["To"].addresses[0].addr_spec
        if address in scores:
            client.post(f"/r/{token_of(message)}", data={"score": scores[address]})


def test_the_buying_committee_report(app, runner, client, make_account, smtp_sink):
    committee_world(app, runner, client, make_account, smtp_sink)
    page = client.get("/reports/committee").get_data(as_text=True)
    silent_section = page.split("<h2>Where decision makers")[0]
    assert "Silent Board AB</a>: 2 invited, none answered" in silent_section
    assert "Split Views AB" not in silent_section
    assert "Split Views AB</a>: users give 9.5 on average, decision makers 2.0" in page
    assert "users happier by 7.5 points" in page
    assert 'data-label="Decision makers">0 / 2</td>' in page
    assert 'data-label="Scores">2 to 10</td>' in page


def test_did_we_see_it_coming(app, runner, client, make_account, smtp_sink):
    from surveys.accounts.models import Account

    made = make_account({"language": "en"}, {"language": "en"}, external_id="GONE", name="Gone AB")
    nps = create_campaign(runner)
    send(runner, nps)
    first, second = smtp_sink.messages
    client.post(
        f"/r/{token_of(first)}",
        data={"score": "3", "reason": "price", "comment": "Far too expensive"},
    )
    client.post(f"/r/{token_of(second)}", data={"score": "9"})
    with app.app_context():
        db.session.execute(
            sa.update(Response).values(answered_at=datetime.now(UTC) - timedelta(days=100))
        )
        db.session.execute(
            sa.update(Account)
            .where(Account.external_id == "GONE")
            .values(status="churned", churned_at=datetime.now(UTC) - timedelta(days=10))
        )
        db.session.commit()
    smtp_sink.clear()
    send(runner, create_campaign(runner, kind="exit"))
    exit_message = smtp_sink.to(made.emails[1])[0]
    client.post(
        f"/r/{token_of(exit_message)}", data={"reason": "price", "comment": "Cheaper elsewhere"}
    )
    page = client.get("/reports/foresight").get_data(as_text=True)
    assert '<strong class="big">100%</strong> of the churned accounts' in page
    assert "90 days before" in page and ": price</li>" in page
    assert (
        '<th scope="row" data-label="Reason">price</th>'
        '<td class="num" data-label="Left for it">1</td>'
        '<td class="num" data-label="Announced">1</td>'
    ) in page


def test_reasons_over_time_and_response_rates(app, runner, client, make_account, smtp_sink):
    make_account("en", "en", "sv", external_id="R1")
    send(runner, create_campaign(runner))
    first, second, third = smtp_sink.messages
    client.post(
        f"/r/{token_of(first)}", data={"score": "2", "reason": "price", "comment": "Too expensive"}
    )
    client.post(f"/r/{token_of(second)}", data={"score": "8", "reason": "product"})
    month = datetime.now(UTC).strftime("%Y-%m")
    page = client.get("/reports/reasons").get_data(as_text=True)
    assert f'data-label="Period">{month}</th>' in page
    assert 'data-label="price">1 / 1</td>' in page and 'data-label="product">1 / 0</td>' in page
    rates = client.get("/reports/response-rates").get_data(as_text=True)
    assert 'data-label="Sent">3</td><td class="num" data-label="Answered">2</td>' in rates
    assert (
        'data-label="Language">sv</th><td class="num" data-label="Sent">1</td>'
        '<td class="num" data-label="Answered">0</td>' in rates
    )
    assert third


def test_report_pages_show_an_account_manager_only_their_accounts(
    app, runner, client, make_account, smtp_sink, make_user
):
    from tests.conftest import sign_in

    committee_world(app, runner, client, make_account, smtp_sink)
    with app.app_context():
        from surveys.accounts.models import Account

        db.session.execute(
            sa.update(Account)
            .where(Account.external_id == "SPLIT")
            .values(account_manager_email="am@x.example")
        )
        db.session.commit()
    manager = sign_in(app.test_client(), make_user("am@x.example", "account_manager"))
    for path in (
        "/reports/committee",
        "/reports/trend?by=account",
        "/reports/foresight",
        "/reports/reasons",
        "/reports/response-rates",
        "/reports/",
    ):
        response = manager.get(path)
        assert response.status_code == 200, path
        assert "Silent Board AB" not in response.get_data(as_text=True), path
    assert "Split Views AB" in manager.get("/reports/committee").get_data(as_text=True)
    for query in ("since=٢٠٢٦-01-01", "period=day", "role=ceo", "manager=" + "m" * 300):
        assert manager.get(f"/reports/committee?{query}").status_code == 400, query
