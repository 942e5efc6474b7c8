"""The respondent's path: the personal link, the answer page, thanks and unsubscribing."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from surveys.accounts.models import Contact, Suppression
from surveys.campaigns.models import Campaign, Invitation, Response
from surveys.delivery.queue import wait_for_background
from surveys.extensions import db
from tests.conftest import build_app
from tests.helpers import create_campaign, send, token_of


@pytest.fixture
def invited(runner, make_account, smtp_sink):
    """One Swedish contact invited to an open NPS campaign: (token, contact id)."""
    made = make_account({"language": "sv", "name": "Åsa"})
    campaign_id = create_campaign(runner)
    send(runner, campaign_id)
    [message] = smtp_sink.messages
    return token_of(message), made.contact_ids[0], campaign_id


def stored_responses(app):
    with app.app_context():
        return [
            (response.score, response.reason, response.comment)
            for response in db.session.scalars(sa.select(Response).order_by(Response.id))
        ]


def close_campaign(app, campaign_id):
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        campaign.created_at -= timedelta(days=60)
        campaign.closes_at = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()


def test_the_answer_page_speaks_the_contacts_language(client, invited):
    token, _, _ = invited
    response = client.get(f"/r/{token}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<html lang="sv">' in page
    assert (
        "<legend>Hur troligt är det att du skulle rekommendera oss till en kollega eller "
        "affärspartner?</legend>" in page
    )
    assert "<legend>Vad är den främsta anledningen till ditt betyg?</legend>" in page
    for label in ["Priset", "Hur mycket uppmärksamhet vi ger er", "Själva produkten"]:
        assert label in page
    assert page.count('type="radio" name="score"') == 11
    assert '<label for="comment">' in page and '<textarea id="comment" name="comment"' in page
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("language", ["en", "nb"])
def test_the_answer_page_in_english_and_norwegian(
    client, runner, make_account, smtp_sink, language
):
    make_account(language)
    send(runner, create_campaign(runner))
    page = client.get(f"/r/{token_of(smtp_sink.messages[0])}").get_data(as_text=True)
    assert f'<html lang="{language}">' in page
    expected = {"en": "How much attention we give you", "nb": "Hvor mye oppmerksomhet vi gir dere"}
    assert expected[language] in page


def test_a_score_link_preselects_and_a_get_records_nothing(app, client, invited):
    token, _, _ = invited
    page = client.get(f"/r/{token}?score=7").get_data(as_text=True)
    assert 'value="7" checked' in page
    assert page.count("checked") == 1
    assert client.get(f"/r/{token}?score=99").status_code == 200
    assert stored_responses(app) == []


def test_posting_stores_the_answer_and_thanks(app, client, invited):
    token, _, _ = invited
    response = client.post(
        f"/r/{token}", data={"score": "9", "reason": "attention", "comment": " Bra kontakt! "}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/r/{token}/thanks")
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert '<html lang="sv">' in thanks and "Tack!" in thanks
    assert stored_responses(app) == [(9, "attention", "Bra kontakt!")]


def test_answering_again_replaces_the_answer(app, client, invited):
    token, _, _ = invited
    client.post(f"/r/{token}", data={"score": "3", "reason": "price"})
    client.post(f"/r/{token}", data={"score": "8", "reason": "product", "comment": "Bättre nu"})
    assert stored_responses(app) == [(8, "product", "Bättre nu")]
    page = client.get(f"/r/{token}").get_data(as_text=True)
    assert 'value="8" checked' in page and "Bättre nu" in page
    assert "Du svarade" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"score": "11"}, "Betyget måste vara ett heltal från 0 till 10."),
        ({"score": "-1"}, "Betyget måste vara ett heltal från 0 till 10."),
        ({"score": "7.5"}, "Betyget måste vara ett heltal från 0 till 10."),
        ({"score": "sju"}, "Betyget måste vara ett heltal från 0 till 10."),
        ({}, "Välj ett betyg från 0 till 10."),
        ({"score": "5", "reason": "cost"}, "Välj en av de angivna anledningarna."),
        ({"score": "5", "comment": "x" * 5001}, "Din kommentar är längre än 5000 tecken."),
    ],
)
def test_bad_answers_get_a_400_that_says_what_is_wrong(app, client, invited, data, message):
    token, _, _ = invited
    client.post(f"/r/{token}", data={"score": "6", "reason": "price", "comment": "first"})
    response = client.post(f"/r/{token}", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert '<html lang="sv">' in page
    assert stored_responses(app) == [(6, "price", "first")]


def test_a_comment_of_exactly_5000_characters_is_fine(app, client, invited):
    token, _, _ = invited
    assert client.post(f"/r/{token}", data={"score": "5", "comment": "å" * 5000}).status_code == 303
    assert stored_responses(app)[0][2] == "å" * 5000


def test_unknown_expired_and_foreign_tokens_get_the_same_404(app, client, invited, runner):
    token, _, campaign_id = invited
    unknown = client.get("/r/" + "A" * 43)
    foreign = client.get("/r/not-a-token-at-all")
    assert unknown.status_code == foreign.status_code == 404
    close_campaign(app, campaign_id)
    expired = client.get(f"/r/{token}")
    assert expired.status_code == 404
    assert unknown.data == foreign.data == expired.data
    assert b"Page not found" in expired.data
    assert client.post(f"/r/{token}", data={"score": "10"}).status_code == 404
    assert client.get(f"/r/{token}/thanks").status_code == 404
    assert stored_responses(app) == []


def test_the_404_page_follows_the_browsers_language(client):
    response = client.get("/r/nothing", headers={"Accept-Language": "nb-NO,nb;q=0.9"})
    assert response.status_code == 404
    assert '<html lang="nb">' in response.get_data(as_text=True)
    assert "Fant ikke siden" in response.get_data(as_text=True)


def contact_unsubscribed(app, contact_id):
    with app.app_context():
        return db.session.get(Contact, contact_id).unsubscribed_at is not None


def test_unsubscribe_asks_first_and_a_get_changes_nothing(app, client, invited):
    token, contact_id, _ = invited
    page = client.get(f"/r/{token}/unsubscribe")
    assert page.status_code == 200
    assert "<button" in page.get_data(as_text=True)
    assert "Ja, avregistrera mig" in page.get_data(as_text=True)
    assert not contact_unsubscribed(app, contact_id)
    done = client.post(f"/r/{token}/unsubscribe")
    assert done.status_code == 200
    assert "Du är avregistrerad" in done.get_data(as_text=True)
    assert contact_unsubscribed(app, contact_id)


def test_rfc8058_one_click_unsubscribe(app, invited):
    token, contact_id, _ = invited
    # a fresh client: no cookie, no CSRF token, as a mail provider posts it
    with app.test_client(use_cookies=False) as mail_provider:
        response = mail_provider.post(
            f"/r/{token}/unsubscribe",
            data="List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
    assert response.status_code == 200
    assert contact_unsubscribed(app, contact_id)


def test_one_click_works_with_csrf_protection_on(database_url, invited, smtp_server):
    token, contact_id, _ = invited
    app = build_app(database_url, WTF_CSRF_ENABLED=True, MAIL_PORT=smtp_server.port)
    client = app.test_client()
    response = client.post(
        f"/r/{token}/unsubscribe",
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    # the answer form needs no CSRF token either: the personal token is the credential
    assert client.post(f"/r/{token}", data={"score": "4"}).status_code == 303
    # staff forms, unlike the token pages, need their CSRF token
    refused = client.post("/campaigns/", data={"kind": "nps", "name": "X", "days_open": 3})
    assert refused.status_code == 400
    assert contact_unsubscribed(app, contact_id)


def test_unsubscribed_addresses_are_never_mailed_again(
    app, client, runner, invited, smtp_sink, tmp_path
):
    token, contact_id, _ = invited
    client.post(f"/r/{token}/unsubscribe")
    smtp_sink.clear()
    send(runner, create_campaign(runner))
    assert smtp_sink.messages == []
    # not even after the contact is erased and imported again
    with app.app_context():
        contact = db.session.get(Contact, contact_id)
        email, external_id = contact.email, contact.account.external_id
        db.session.delete(contact)
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count(Suppression.id))) == 1
    csv_path = tmp_path / "reimport.csv"
    csv_path.write_text(f"account_id,contact_email,language\n{external_id},{email},sv\n")
    assert runner.invoke(args=["contacts", "import", str(csv_path)]).exit_code == 0
    send(runner, create_campaign(runner))
    assert smtp_sink.messages == []


def test_unsubscribing_works_after_the_campaign_closed(app, client, invited):
    token, contact_id, campaign_id = invited
    close_campaign(app, campaign_id)
    assert client.get(f"/r/{token}").status_code == 404
    assert client.post(f"/r/{token}/unsubscribe").status_code == 200
    assert contact_unsubscribed(app, contact_id)


@pytest.fixture
def exit_invited(runner, make_account, smtp_sink):
    """One Norwegian contact of a churned account invited to an exit survey."""
    made = make_account(
        {"language": "nb"}, status="churned", churned_at=datetime.now(UTC) - timedelta(days=3)
    )
    send(runner, create_campaign(runner, kind="exit"))
    [message] = smtp_sink.messages
    return token_of(message), made.contact_ids[0]


def stored_exit_answers(app):
    with app.app_context():
        return [
            (r.reason, r.comment, r.felt_prioritised, r.manager_contact, r.score)
            for r in db.session.scalars(sa.select(Response).order_by(Response.id))
        ]


def test_the_exit_page_asks_the_exit_questions(client, exit_invited):
    token, _ = exit_invited
    page = client.get(f"/r/{token}").get_data(as_text=True)
    assert '<html lang="nb">' in page
    for text in [
        "Hva var hovedgrunnen til at dere forlot oss?",
        "Med egne ord, hvorfor forlot dere oss?",
        "Vi følte oss prioritert av dere",
        "Hvor ofte tok kundeansvarlig kontakt med dere de siste seks månedene?",
        "Hvor sannsynlig er det at dere kommer tilbake til oss?",
    ]:
        assert f"<legend>{text}</legend>" in page or f">{text}</label>" in page
    assert page.count('name="felt_prioritised"') == 5
    assert page.count('name="manager_contact"') == 3
    assert page.count('name="score"') == 11


def test_an_exit_answer_is_stored(app, client, exit_invited):
    token, _ = exit_invited
    response = client.post(
        f"/r/{token}",
        data={
            "reason": "price",
            "comment": "For dyrt, og vi hørte aldri fra dere.",
            "felt_prioritised": "2",
            "manager_contact": "never",
            "score": "3",
        },
    )
    assert response.status_code == 303
    assert stored_exit_answers(app) == [
        ("price", "For dyrt, og vi hørte aldri fra dere.", 2, "never", 3)
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"felt_prioritised": "6"}, "Velg hvor prioritert dere følte dere, fra 1 til 5."),
        ({"felt_prioritised": "0"}, "Velg hvor prioritert dere følte dere, fra 1 til 5."),
        ({"felt_prioritised": "2.5"}, "Velg hvor prioritert dere følte dere, fra 1 til 5."),
        ({"manager_contact": "weekly"}, "Velg aldri, én gang eller flere ganger."),
        ({"score": "12"}, "Poengsummen må være et helt tall fra 0 til 10."),
        ({"reason": "money"}, "Velg en av grunnene i listen."),
        ({"comment": "x" * 5001}, "Kommentaren din er lengre enn 5000 tegn."),
        ({}, "Svar på minst ett spørsmål."),
    ],
)
def test_bad_exit_answers_get_a_400(app, client, exit_invited, data, message):
    token, _ = exit_invited
    response = client.post(f"/r/{token}", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert stored_exit_answers(app) == []


# --- Hostile requests: nothing changes, and every answer is a clear page --------------


def everything_stored(app):
    """What a request could change: answers, unsubscriptions, suppressions, invitations."""
    with app.app_context():
        return (
            db.session.execute(
                sa.select(Response.invitation_id, Response.score, Response.comment).order_by(
                    Response.id
                )
            ).all(),
            db.session.execute(sa.select(Contact.id, Contact.unsubscribed_at)).all(),
            db.session.scalar(sa.select(sa.func.count(Suppression.id))),
            db.session.execute(
                sa.select(Invitation.id, Invitation.token_hash, Invitation.sent_at)
            ).all(),
        )


@pytest.fixture
def three_tokens(app, runner, make_account, smtp_sink):
    """An open token, a token of a closed campaign (both answered once), an unknown one."""
    make_account({"language": "sv"})
    closed_campaign = create_campaign(runner)
    send(runner, closed_campaign)
    closed = token_of(smtp_sink.messages[-1])
    client = app.test_client()
    assert client.post(f"/r/{closed}", data={"score": "5"}).status_code == 303
    # the 5 opened a follow-up; its alert's sender finishes before the next send
    wait_for_background()
    close_campaign(app, closed_campaign)
    send(runner, create_campaign(runner))
    opened = token_of(smtp_sink.messages[-1])
    assert client.post(f"/r/{opened}", data={"score": "6"}).status_code == 303
    return {"open": opened, "closed": closed, "unknown": "U" * 43}


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_no_get_head_or_options_to_a_customer_url_changes_anything(
    app, client, three_tokens, method
):
    before = everything_stored(app)
    for state, token in three_tokens.items():
        for path in (
            f"/r/{token}",
            f"/r/{token}?score=3",
            f"/r/{token}/thanks",
            f"/r/{token}/unsubscribe",
            f"/r/{token}/unsubscribe?List-Unsubscribe=One-Click",
        ):
            response = client.open(path, method=method)
            assert response.status_code < 500, (state, path, response.status_code)
    assert everything_stored(app) == before


def test_a_link_scanners_head_does_not_unsubscribe(app, client, invited):
    token, contact_id, _ = invited
    assert client.head(f"/r/{token}/unsubscribe").status_code == 200
    assert not contact_unsubscribed(app, contact_id)


def test_a_json_body_is_refused_with_the_pages_message(app, client, invited):
    token, _, _ = invited
    response = client.post(f"/r/{token}", json={"score": 5})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert '<html lang="sv">' in page and "Välj ett betyg från 0 till 10." in page
    assert stored_responses(app) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"score": "5", "comment": "Bra\x00 service"}, "Din kommentar innehåller ett tecken"),
        ({"score": "5\x00"}, "Betyget måste vara ett heltal från 0 till 10."),
        ({"score": "5", "reason": "price\x00"}, "Välj en av de angivna anledningarna."),
        ({"score": "5", "comment": "Bra\x1b[31m service"}, "(U+001B)"),
        ({"score": "٣"}, "Betyget måste vara ett heltal från 0 till 10."),
        ({"score": "１"}, "Betyget måste vara ett heltal från 0 till 10."),
        ({"score": "07"}, "Betyget måste vara ett heltal från 0 till 10."),
        ({"score": "00"}, "Betyget måste vara ett heltal från 0 till 10."),
        ({"score": "+7"}, "Betyget måste vara ett heltal från 0 till 10."),
        ({"score": "9" * 5000}, "Betyget måste vara ett heltal från 0 till 10."),
    ],
)
def test_hostile_answers_get_a_400_in_the_contacts_language(app, client, invited, data, message):
    token, _, _ = invited
    response = client.post(f"/r/{token}", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert '<html lang="sv">' in page and message in page
    # never Python's own words ("Exceeds the limit (4300 digits) for integer string ...")
    assert "Exceeds the limit" not in page and "invalid literal" not in page
    assert stored_responses(app) == []


def test_exit_numbers_refuse_other_scripts_digits(app, client, exit_invited):
    token, _ = exit_invited
    for data in ({"felt_prioritised": "٢"}, {"felt_prioritised": "02"}, {"score": "１０"}):
        response = client.post(f"/r/{token}", data=data)
        assert response.status_code == 400, data
        assert '<html lang="nb">' in response.get_data(as_text=True)
    assert stored_exit_answers(app) == []


def test_a_comment_with_windows_line_breaks_counts_them_once(app, client, invited):
    token, _, _ = invited
    comment = ("a" * 99 + "\r\n") * 50  # 5,000 characters as the browser counts them
    assert client.post(f"/r/{token}", data={"score": "5", "comment": comment}).status_code == 303
    assert stored_responses(app)[0][2] == comment.replace("\r\n", "\n").strip()


def test_score_links_preselect_only_plain_scores(client, invited):
    token, _, _ = invited
    for score in ("٣", "03", "3 ", "9" * 5000):
        page = client.get(f"/r/{token}", query_string={"score": score})
        assert page.status_code == 200
        assert "checked" not in page.get_data(as_text=True)


def is_customer_page(page: str, language: str) -> bool:
    return f'<html lang="{language}">' in page and 'aria-label="Main"' not in page


def test_errors_on_customer_urls_are_customer_pages_in_the_contacts_language(client, invited):
    token, _, _ = invited
    response = client.put(f"/r/{token}", data={"score": "5"})
    assert response.status_code == 405
    page = response.get_data(as_text=True)
    assert is_customer_page(page, "sv")
    assert "Sidan kan inte användas på det sättet." in page
    response = client.get(f"/r/{token}?score=5%00")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert is_customer_page(page, "sv")
    assert "innehåller ett tecken som inte är tillåtet" in page
    # a page that does not exist under the prefix: the customer's not-found page
    response = client.get(f"/r/{token}/nothing/here", headers={"Accept-Language": "nb"})
    assert response.status_code == 404
    assert is_customer_page(response.get_data(as_text=True), "nb")


def test_a_failure_while_answering_shows_the_customers_page_and_stores_nothing(
    app, client, invited, database_url
):
    token, _, _ = invited
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: no test-mode re-raise
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE response_reasons RENAME TO broken_reasons"))
    try:
        response = client.post(f"/r/{token}", data={"score": "2", "comment": "För dyrt"})
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text("ALTER TABLE broken_reasons RENAME TO response_reasons"))
        engine.dispose()
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert is_customer_page(page, "sv")
    assert "Något gick fel hos oss." in page
    assert "Traceback" not in page and "sqlalchemy" not in page.lower()
    assert stored_responses(app) == []


def test_customer_pages_are_neither_cached_nor_referred(client, invited):
    token, _, _ = invited
    for response in (
        client.get(f"/r/{token}"),
        client.get(f"/r/{token}/unsubscribe"),
        client.get("/r/unknown"),
    ):
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        policy = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
