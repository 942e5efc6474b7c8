"""The respondent's path: the personal link, the answer page, thanks and unsubscribing."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from surveys.accounts.models import Contact, Suppression
from surveys.campaigns.models import Campaign, Response
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
