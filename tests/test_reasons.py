"""Reasons in stored answers: classified when saved, reclassified on demand, reported as
stated against found with the price-as-cover verdict, on the CLI and the CX page."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from surveys.campaigns.models import Response, ResponseReason
from surveys.extensions import db
from tests.helpers import create_campaign, send, token_of

REPORT_KEYS = {"stated", "found", "price_cover_share", "accounts"}
ACCOUNT_KEYS = {"account_id", "name", "stated", "found", "price_is_cover", "evidence"}


def answer(client, smtp_sink, email, **data):
    [message] = smtp_sink.to(email)
    response = client.post(f"/r/{token_of(message)}", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)


def stored(app):
    with app.app_context():
        response = db.session.scalar(sa.select(Response).order_by(Response.id.desc()))
        reasons = {
            row.reason: (row.found, row.evidence)
            for row in db.session.scalars(
                sa.select(ResponseReason).where(ResponseReason.response_id == response.id)
            )
        }
        return response, reasons


def test_an_answer_is_classified_when_saved(app, client, runner, make_account, smtp_sink):
    made = make_account("sv")
    send(runner, create_campaign(runner))
    answer(
        client,
        smtp_sink,
        made.emails[0],
        score="4",
        reason="price",
        comment="Priset var okej, men ingen ringde tillbaka när vi hade problem.",
    )
    response, reasons = stored(app)
    assert response.text_language == "sv"
    assert response.text_reason == "attention"
    assert response.classified_at is not None and response.classifier_version
    assert set(reasons) == {"price", "attention", "product", "other"}
    found, evidence = reasons["attention"]
    assert found is True
    assert any("ringde" in word or "ingen" in word for word in evidence)
    assert reasons["price"][0] is False  # "the price was okay" is not a price complaint
    assert response.polarity is None  # sentiment only for English


def test_english_answers_get_polarity_and_subjectivity(
    app, client, runner, make_account, smtp_sink
):
    made = make_account("sv")  # a Swedish contact answering in English
    send(runner, create_campaign(runner))
    answer(
        client, smtp_sink, made.emails[0], score="2", comment="Far too expensive, terrible value."
    )
    response, reasons = stored(app)
    assert response.text_language == "en"
    assert response.text_reason == "price"
    assert response.polarity < 0 and 0 <= response.subjectivity <= 1


def test_punctuation_or_no_comment_means_no_reason(app, client, runner, make_account, smtp_sink):
    made = make_account("en")
    send(runner, create_campaign(runner))
    answer(client, smtp_sink, made.emails[0], score="9", comment=" ?!  ")
    response, reasons = stored(app)
    assert (response.comment, response.text_reason, response.text_language) == ("?!", None, None)
    assert not any(found for found, _evidence in reasons.values())
    answer(client, smtp_sink, made.emails[0], score="9", comment="")
    response, reasons = stored(app)
    assert (response.comment, response.text_reason, reasons) == (None, None, {})
    assert response.classified_at is not None


def test_answering_again_reclassifies(app, client, runner, make_account, smtp_sink):
    made = make_account("nb")
    send(runner, create_campaign(runner))
    answer(client, smtp_sink, made.emails[0], score="3", comment="Altfor dyrt.")
    answer(client, smtp_sink, made.emails[0], score="3", comment="Systemet krasjet hele tiden.")
    response, reasons = stored(app)
    assert response.text_reason == "product"
    assert reasons["product"][0] is True and reasons["price"][0] is False


def test_reclassify_redoes_every_answer(app, client, runner, make_account, smtp_sink):
    made = make_account("en", "en")
    send(runner, create_campaign(runner))
    for email in made.emails:
        answer(client, smtp_sink, email, score="5", comment="Nobody ever called us back.")
    with app.app_context():  # as if stored by an older model
        db.session.execute(sa.update(Response).values(text_reason=None, classifier_version="old"))
        db.session.execute(sa.delete(ResponseReason))
        db.session.commit()
    result = runner.invoke(args=["reasons", "reclassify"])
    assert result.exit_code == 0, result.output
    assert "2 answers classified" in result.output
    with app.app_context():
        assert set(db.session.scalars(sa.select(Response.text_reason))) == {"attention"}
        assert "old" not in set(db.session.scalars(sa.select(Response.classifier_version)))
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ResponseReason)) == 8


def forgotten_account(make_account, **fields):
    """An account whose manager was last in touch 200 days ago."""
    return make_account(
        {"language": "en", "name": "Olivia Price"},
        {"language": "sv", "name": "Per Ek"},
        last_contacted_at=datetime.now(UTC) - timedelta(days=200),
        **fields,
    )


def report(runner, *options):
    result = runner.invoke(args=["reasons", "report", *options, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_report_json_and_a_worked_price_as_cover(client, runner, make_account, smtp_sink):
    made = forgotten_account(make_account, external_id="COVER", name="Cover AB")
    fine = make_account(
        {"language": "en"},
        external_id="FAIR",
        name="Fair Ltd",
        last_contacted_at=datetime.now(UTC) - timedelta(days=10),
    )
    send(runner, create_campaign(runner))
    answer(client, smtp_sink, made.emails[0], score="3", reason="price", comment="Too expensive.")
    answer(
        client,
        smtp_sink,
        made.emails[1],
        score="5",
        reason="product",
        comment="Ingen hör av sig längre, vi känner oss bortglömda.",
    )
    answer(
        client, smtp_sink, fine.emails[0], score="6", reason="price", comment="The fee is too high."
    )

    data = report(runner)
    assert REPORT_KEYS <= set(data)
    assert data["stated"] == {"price": 2, "attention": 0, "product": 1, "other": 0}
    assert data["found"]["price"] == 2 and data["found"]["attention"] == 1
    # two price answers, one of them a cover
    assert data["price_cover_share"] == 0.5
    accounts = {row["account_id"]: row for row in data["accounts"]}
    assert all(ACCOUNT_KEYS <= set(row) for row in accounts.values())
    cover = accounts["COVER"]
    assert cover["name"] == "Cover AB"
    assert cover["stated"] == ["price", "product"] or cover["stated"] == ["product", "price"]
    assert "attention" in cover["found"]
    assert cover["price_is_cover"] is True
    signals = {item["signal"]: item["detail"] for item in cover["evidence"]}
    assert "Per Ek wrote of attention" in signals["colleague_attention"]
    assert "days before this answer" in signals["account_neglected"]
    assert accounts["FAIR"]["price_is_cover"] is False
    assert accounts["FAIR"]["evidence"] == []


def test_report_filters_by_period(app, client, runner, make_account, smtp_sink):
    made = make_account("en")
    send(runner, create_campaign(runner))
    answer(client, smtp_sink, made.emails[0], score="3", reason="price", comment="Pricey.")
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    assert report(runner, "--since", tomorrow)["accounts"] == []
    assert len(report(runner)["accounts"]) == 1
    result = runner.invoke(args=["reasons", "report", "--since", "yesterday", "--json"])
    assert result.exit_code != 0 and "yesterday" in result.output


def exit_answer(client, runner, make_account, smtp_sink, **data):
    made = make_account(
        {"language": "nb", "name": "Kari"},
        status="churned",
        churned_at=datetime.now(UTC) - timedelta(days=2),
        last_contacted_at=datetime.now(UTC) - timedelta(days=30),
        external_id="EXIT",
        name="Exit AS",
    )
    send(runner, create_campaign(runner, kind="exit"))
    answer(client, smtp_sink, made.emails[0], **data)


def test_exit_answers_low_on_attention_make_price_a_cover(client, runner, make_account, smtp_sink):
    exit_answer(
        client,
        runner,
        make_account,
        smtp_sink,
        reason="price",
        comment="For dyrt.",
        felt_prioritised="2",
        manager_contact="never",
        score="1",
    )
    [row] = report(runner)["accounts"]
    assert row["price_is_cover"] is True
    details = [item["detail"] for item in row["evidence"]]
    assert "Kari felt prioritised 2 of 5" in details
    assert any("never got in touch" in detail for detail in details)


def test_cx_page_shows_stated_against_found_and_the_verdicts(
    client, runner, make_account, smtp_sink
):
    made = forgotten_account(make_account, external_id="PAGE", name="Sidan AB", segment="SMB")
    send(runner, create_campaign(runner))
    answer(
        client, smtp_sink, made.emails[0], score="3", reason="price", comment="Way too expensive."
    )
    page = client.get("/reasons/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Stated against found" in text
    assert "100%</strong> of price answers are a cover" in text
    assert "Sidan AB" in text and "Price as cover" in text and "account neglected" in text
    # filters narrow the answers
    assert "Sidan AB" not in client.get("/reasons/?kind=exit").get_data(as_text=True)
    assert "Sidan AB" not in client.get("/reasons/?language=sv").get_data(as_text=True)
    assert "Sidan AB" in client.get("/reasons/?segment=SMB&role=decision_maker").get_data(
        as_text=True
    )
    bad = client.get("/reasons/?since=2026-13-01")
    assert bad.status_code == 400 and b"Not a valid date value" in bad.data
    backwards = client.get("/reasons/?since=2026-05-01&until=2026-04-01")
    assert backwards.status_code == 400 and b"before its start" in backwards.data


def test_drill_down_highlights_the_evidence(client, runner, make_account, smtp_sink):
    made = forgotten_account(make_account, external_id="DRILL", name="Drill AB")
    send(runner, create_campaign(runner))
    answer(
        client,
        smtp_sink,
        made.emails[0],
        score="2",
        reason="price",
        comment="Too expensive <b>and</b> nobody ever called us back.",
    )
    page = client.get("/reasons/verbatims?reason=attention&source=found")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Drill AB" in text
    assert "&lt;b&gt;and&lt;/b&gt;" in text  # the comment is escaped
    marked = re.findall(r"<mark>(.*?)</mark>", text)
    assert any("nobody" in word.lower() or "called" in word.lower() for word in marked)
    assert any("expensive" in word.lower() for word in marked)
    assert "Drill AB" not in client.get("/reasons/verbatims?reason=other&source=found").get_data(
        as_text=True
    )
    assert "Drill AB" in client.get("/reasons/verbatims?reason=price&source=stated").get_data(
        as_text=True
    )
    assert client.get("/reasons/verbatims?reason=cost").status_code == 400
    account = client.get("/reasons/accounts/DRILL").get_data(as_text=True)
    assert "Price as cover" in account and "text attention" in account
    assert client.get("/reasons/accounts/NOPE").status_code == 404


@pytest.mark.parametrize("path", ["/reasons/", "/reasons/verbatims", "/reasons/accounts/X"])
def test_reasons_pages_need_a_sign_in(anonymous, path):
    response = anonymous.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_a_set_aside_topic_is_stored_and_shown_as_set_aside(
    app, client, runner, make_account, smtp_sink
):
    made = make_account({"language": "sv", "name": "Eva Lind"}, external_id="ASIDE")
    send(runner, create_campaign(runner))
    comment = "Vår kontaktperson är jättetrevlig, men licensen gick upp igen."
    answer(client, smtp_sink, made.emails[0], score="4", reason="price", comment=comment)
    with app.app_context():
        rows = {row.reason: row for row in db.session.scalars(sa.select(ResponseReason))}
        assert rows["price"].found and "licensen" in rows["price"].evidence
        assert not rows["attention"].found
        assert rows["attention"].evidence == []  # praised, not evidence
        assert rows["attention"].set_aside == ["kontaktperson"]
        assert rows["price"].set_aside == []
    page = client.get("/reasons/accounts/ASIDE").get_data(as_text=True)
    assert "<dt>Set aside</dt>" in page and "attention (kontaktperson)" in page
    assert '<mark class="set-aside">kontaktperson</mark>' in page
    assert "<mark>licensen</mark>" in page
    assert "<mark>kontaktperson</mark>" not in page


def test_reclassify_fills_the_set_aside_words(app, client, runner, make_account, smtp_sink):
    made = make_account("en")
    send(runner, create_campaign(runner))
    answer(
        client,
        smtp_sink,
        made.emails[0],
        score="3",
        comment="No complaints about support. The renewal quote was simply too high.",
    )
    with app.app_context():  # as stored before set-aside words were kept
        db.session.execute(sa.update(ResponseReason).values(set_aside=[]))
        db.session.commit()
    assert runner.invoke(args=["reasons", "reclassify"]).exit_code == 0
    with app.app_context():
        attention = db.session.scalar(
            sa.select(ResponseReason).where(ResponseReason.reason == "attention")
        )
        assert (attention.found, attention.set_aside) == (False, ["support"])


def strong_and_weak_covers(client, runner, make_account, smtp_sink):
    """WEAK: a price answer beside a neglected account (one source). STRONG: a price answer
    whose own words also speak of attention, at a neglected account (two sources)."""
    weak = forgotten_account(make_account, external_id="WEAK", name="Weak Cover AB")
    strong = make_account(
        {"language": "en", "name": "Sam Strong"},
        external_id="STRONG",
        name="Strong Cover Ltd",
        last_contacted_at=datetime.now(UTC) - timedelta(days=200),
    )
    send(runner, create_campaign(runner))
    answer(client, smtp_sink, weak.emails[0], score="3", reason="price", comment="Too expensive.")
    answer(
        client,
        smtp_sink,
        strong.emails[0],
        score="2",
        reason="price",
        comment="Too expensive, and nobody ever calls us back.",
    )


def test_report_json_gives_each_verdict_its_strength(client, runner, make_account, smtp_sink):
    strong_and_weak_covers(client, runner, make_account, smtp_sink)
    data = report(runner)
    assert data["min_signals"] == 1
    accounts = {row["account_id"]: row for row in data["accounts"]}
    assert accounts["WEAK"]["price_is_cover"] is True
    assert accounts["WEAK"]["strength"] == {"signals": 1, "which": ["account"]}
    assert accounts["STRONG"]["strength"] == {"signals": 2, "which": ["own_words", "account"]}
    [verdict] = accounts["STRONG"]["verdicts"]
    assert verdict["contact"] == "Sam Strong" and verdict["price_is_cover"] is True
    assert verdict["strength"]["signals"] == 2
    assert [signal["signal"] for signal in verdict["signals"]] == [
        "text_attention",
        "account_neglected",
    ]
    assert data["price_covers"] == 2
    strong_only = report(runner, "--min-signals", "2")
    assert [row["account_id"] for row in strong_only["accounts"]] == ["STRONG"]
    assert (strong_only["price_answers"], strong_only["price_covers"]) == (2, 1)
    bad = runner.invoke(args=["reasons", "report", "--min-signals", "5", "--json"])
    assert bad.exit_code != 0


def test_cx_page_shows_only_verdicts_with_at_least_two_signals(
    client, runner, make_account, smtp_sink
):
    strong_and_weak_covers(client, runner, make_account, smtp_sink)
    every = client.get("/reasons/").get_data(as_text=True)
    assert "Weak Cover AB" in every and "Strong Cover Ltd" in every
    assert "100%</strong> of price answers are a cover" in every
    assert "1 independent signal: account" in every
    assert "2 independent signals: own words, account" in every
    page = client.get("/reasons/?min_signals=2")
    assert page.status_code == 200
    strong = page.get_data(as_text=True)
    assert "Strong Cover Ltd" in strong and "Weak Cover AB" not in strong
    assert "50%</strong> of price answers are a cover" in strong
    assert "at least 2 independent attention signals" in strong
    assert '<option selected value="2">' in strong  # the filter shows what is chosen
    # the drill-down links keep the filter
    assert "min_signals=2" in strong.split("Stated against found")[1]
    assert client.get("/reasons/?min_signals=7").status_code == 400


def test_a_colleague_is_quoted_once_however_often_they_answered(
    client, runner, make_account, smtp_sink
):
    made = forgotten_account(make_account, external_id="TWICE", name="Twice AB")
    first = create_campaign(runner)
    send(runner, first)
    answer(client, smtp_sink, made.emails[1], score="3", comment="Ingen hör av sig.")
    second = create_campaign(runner)
    send(runner, second)
    messages = smtp_sink.to(made.emails[1])
    later = client.post(
        f"/r/{token_of(messages[-1])}",
        data={"score": "3", "comment": "Ingen hör av sig, ingen hör av sig!"},
    )
    assert later.status_code == 303
    price = smtp_sink.to(made.emails[0])[-1]
    posted = client.post(
        f"/r/{token_of(price)}", data={"score": "3", "reason": "price", "comment": "Too pricey."}
    )
    assert posted.status_code == 303
    [row] = [row for row in report(runner)["accounts"] if row["account_id"] == "TWICE"]
    colleague = [item for item in row["evidence"] if item["signal"] == "colleague_attention"]
    assert len(colleague) == 1
    detail = colleague[0]["detail"]
    assert detail.startswith("Per Ek wrote of attention on ")
    assert detail.count("Ingen hör av sig") <= 1


def test_a_detractor_follow_up_left_open_is_a_cover_signal(
    app, client, runner, make_account, smtp_sink
):
    """Signal 4's second half: nobody acted on a detractor's follow-up for over 14 days."""
    from datetime import UTC, datetime, timedelta

    from surveys.followups.models import FollowUp

    made = make_account(
        {"language": "en"},
        {"language": "en"},
        external_id="OPEN",
        name="Left Open AB",
        last_contacted_at=datetime.now(UTC),
    )
    send(runner, create_campaign(runner))
    answer(client, smtp_sink, made.emails[0], score="2", comment="The app keeps crashing")
    answer(client, smtp_sink, made.emails[1], score="4", reason="price", comment="Too expensive")
    with app.app_context():
        first = db.session.scalar(sa.select(FollowUp).order_by(FollowUp.id))
        first.opened_at = datetime.now(UTC) - timedelta(days=20)
        db.session.commit()
    report = json.loads(runner.invoke(args=["reasons", "report", "--json"]).output)
    [row] = [row for row in report["accounts"] if row["account_id"] == "OPEN"]
    assert row["price_is_cover"] is True
    assert any(signal["signal"] == "follow_up_open" for signal in row["evidence"])
