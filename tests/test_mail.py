"""The invitation e-mail as it arrives at a real SMTP server."""

import re
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.mail import mime
from surveys.mail.messages import display_name
from tests.conftest import build_app
from tests.helpers import create_campaign, html_part, send, text_part, token_of

SUBJECTS = {
    "en": "How likely are you to recommend us?",
    "sv": "Hur troligt är det att du skulle rekommendera oss?",
    "nb": "Hvor sannsynlig er det at du vil anbefale oss?",
}
QUESTIONS = {
    "en": "How likely are you to recommend us to a colleague or business partner?",
    "sv": "Hur troligt är det att du skulle rekommendera oss till en kollega eller affärspartner?",
    "nb": "Hvor sannsynlig er det at du vil anbefale oss til en kollega eller forretningspartner?",
}
UNSUBSCRIBE = {"en": "Unsubscribe", "sv": "Avregistrera dig", "nb": "Meld deg av"}


@pytest.mark.parametrize("language", ["en", "sv", "nb"])
def test_invitation_speaks_the_contacts_language(runner, make_account, smtp_sink, language):
    made = make_account({"language": language, "name": "Åsa Öberg"})
    send(runner, create_campaign(runner))
    [message] = smtp_sink.messages
    assert message["Subject"] == SUBJECTS[language]
    assert message["To"].addresses[0].addr_spec == made.emails[0]
    assert message["To"].addresses[0].display_name == "Åsa Öberg"
    assert message["Content-Language"] == language
    assert QUESTIONS[language] in text_part(message)
    html = html_part(message)
    assert QUESTIONS[language] in html
    assert f'<html lang="{language}">' in html
    assert f">{UNSUBSCRIBE[language]}</a>" in html


def test_invitation_has_the_eleven_score_links_and_renders_in_mail_clients(
    runner, make_account, smtp_sink
):
    make_account("en")
    send(runner, create_campaign(runner))
    [message] = smtp_sink.messages
    token = token_of(message)
    html = html_part(message)
    for score in range(11):
        assert f'href="http://surveys.test/r/{token}?score={score}"' in html
    assert html.count("?score=") == 11
    # mail clients: table layout, inline styles, no scripts, no external images
    assert "<table" in html and 'role="presentation"' in html
    assert "<style" not in html and "<link" not in html
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert 'style="' in html


def test_invitation_has_a_text_part_and_one_click_unsubscribe(runner, make_account, smtp_sink):
    make_account("sv")
    send(runner, create_campaign(runner))
    [message] = smtp_sink.messages
    token = token_of(message)
    text = text_part(message)
    assert f"http://surveys.test/r/{token}\r\n" in text
    unsubscribe = f"http://surveys.test/r/{token}/unsubscribe"
    assert unsubscribe in text
    assert f'href="{unsubscribe}"' in html_part(message)
    # RFC 8058
    assert message["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert re.fullmatch(r"<https?://[^>]+>", message["List-Unsubscribe"])
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_one_message_per_contact(runner, make_account, smtp_sink):
    make_account("sv", "nb", "en", "en")
    send(runner, create_campaign(runner))
    assert len(smtp_sink.messages) == 4
    assert all(len(message["To"].addresses) == 1 for message in smtp_sink.messages)
    assert len({token_of(message) for message in smtp_sink.messages}) == 4


def test_exit_invitation(runner, make_account, smtp_sink):
    make_account("sv", status="churned", churned_at=datetime(2026, 1, 1, tzinfo=UTC))
    send(runner, create_campaign(runner, kind="exit"))
    [message] = smtp_sink.messages
    token = token_of(message)
    html = html_part(message)
    assert message["Subject"] == "Varför lämnade ni oss?"
    assert '<html lang="sv">' in html and "Tråkigt att ni lämnar oss." in html
    assert f'href="http://surveys.test/r/{token}"' in html
    assert f'href="http://surveys.test/r/{token}/unsubscribe"' in html
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert f"http://surveys.test/r/{token}\r\n" in text_part(message)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


LONG_BASE_URL = "https://kundundersokningar.nordljus-logistik.example.com"


@pytest.mark.parametrize("language", ["en", "sv", "nb"])
def test_list_unsubscribe_reaches_the_server_as_written(
    database_url, smtp_sink, make_account, language
):
    """On the wire, as mailbox providers read it: one unencoded header line holding the
    URL in angle brackets, though it is longer than 78 characters."""
    make_account({"language": language, "name": "Åsa Öberg"})
    app = build_app(database_url, MAIL_PORT=smtp_sink.port, SURVEYS_BASE_URL=LONG_BASE_URL)
    runner = app.test_cli_runner()
    send(runner, create_campaign(runner))
    [raw] = smtp_sink.raw
    headers = raw.split(b"\r\n\r\n")[0].decode("ascii")
    token = token_of(smtp_sink.messages[0])
    expected = f"List-Unsubscribe: <{LONG_BASE_URL}/r/{token}/unsubscribe>"
    assert len(expected) > 78
    assert f"\r\n{expected}\r\n" in headers
    assert "=?utf-8?" not in expected
    assert "\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in headers
    # every other header is folded only at whitespace and within the line limit
    for line in headers.split("\r\n"):
        assert len(line) <= 998
        if line[:1] in (" ", "\t"):
            continue
        assert re.match(r"[A-Za-z-]+: ", line), line


def test_without_a_company_the_wording_stays_as_it_was(runner, make_account, smtp_sink):
    make_account("en")
    send(runner, create_campaign(runner))
    [message] = smtp_sink.messages
    assert message["From"].addresses[0].display_name == ""
    assert message["From"].addresses[0].addr_spec == "surveys@localhost"
    assert "recommend us to a colleague" in text_part(message)


COMPANY = "Nordljus Logistik & Co"
BRANDED = {
    "en": (
        f"How likely are you to recommend {COMPANY}?",
        f"How likely are you to recommend {COMPANY} to a colleague or business partner?",
        f"It helps {COMPANY} serve you better.",
    ),
    "sv": (
        f"Hur troligt är det att du skulle rekommendera {COMPANY}?",
        f"Hur troligt är det att du skulle rekommendera {COMPANY} till en kollega eller "
        "affärspartner?",
        f"Det hjälper {COMPANY} att bli bättre för er.",
    ),
    "nb": (
        f"Hvor sannsynlig er det at du vil anbefale {COMPANY}?",
        f"Hvor sannsynlig er det at du vil anbefale {COMPANY} til en kollega eller "
        "forretningspartner?",
        f"Det hjelper {COMPANY} å bli bedre for dere.",
    ),
}


@pytest.fixture
def branded_app(database_url, smtp_sink):
    return build_app(
        database_url,
        MAIL_PORT=smtp_sink.port,
        COMPANY_NAME=COMPANY,
        COMPANY_LOGO_URL="https://cdn.nordljus.example/logo.png",
        MAIL_DEFAULT_SENDER="nps@nordljus.example",
    )


@pytest.mark.parametrize("language", ["en", "sv", "nb"])
def test_the_company_is_named_on_the_email_and_the_pages(
    branded_app, make_account, smtp_sink, language
):
    make_account(language)
    runner = branded_app.test_cli_runner()
    send(runner, create_campaign(runner))
    [message] = smtp_sink.messages
    subject, question, thanks = BRANDED[language]
    assert message["Subject"] == subject
    sender = message["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == (COMPANY, "nps@nordljus.example")
    assert question in text_part(message)
    html = html_part(message)
    escaped = COMPANY.replace("&", "&amp;")
    assert question.replace("&", "&amp;") in html
    assert f'<img src="https://cdn.nordljus.example/logo.png" alt="{escaped}"' in html

    client = branded_app.test_client()
    token = token_of(message)
    page = client.get(f"/r/{token}")
    text = page.get_data(as_text=True)
    assert question.replace("&", "&amp;") in text
    assert f'<img src="https://cdn.nordljus.example/logo.png" alt="{escaped}"' in text
    assert "img-src 'self' https://cdn.nordljus.example;" in page.headers["Content-Security-Policy"]
    client.post(f"/r/{token}", data={"score": "9"})
    assert thanks.replace("&", "&amp;") in client.get(f"/r/{token}/thanks").get_data(as_text=True)


def test_the_sender_name_can_differ_from_the_company(database_url, smtp_sink, make_account):
    make_account({"language": "sv"})
    app = build_app(
        database_url,
        MAIL_PORT=smtp_sink.port,
        COMPANY_NAME="Nordljus",
        MAIL_SENDER_NAME="Åsa på Nordljus",
    )
    runner = app.test_cli_runner()
    send(runner, create_campaign(runner))
    [message] = smtp_sink.messages
    assert message["From"].addresses[0].display_name == "Åsa på Nordljus"
    # a company without a logo is named in words, and no image is sent
    assert "<img" not in html_part(message).lower()
    assert ">Nordljus</td>" in html_part(message)


def test_a_company_name_with_markup_is_shown_as_text(database_url, smtp_sink, make_account):
    make_account("en")
    app = build_app(database_url, MAIL_PORT=smtp_sink.port, COMPANY_NAME="<b>Evil</b>")
    runner = app.test_cli_runner()
    send(runner, create_campaign(runner))
    html = html_part(smtp_sink.messages[0])
    assert "<b>Evil</b>" not in html and "&lt;b&gt;Evil&lt;/b&gt;" in html
    page = app.test_client().get(f"/r/{token_of(smtp_sink.messages[0])}")
    assert "<b>Evil</b>" not in page.get_data(as_text=True)


@settings(max_examples=200, deadline=None)
@given(
    name=st.text(
        st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=80
    ),
    subject=st.text(
        st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=200
    ),
)
def test_any_name_and_subject_read_back_as_written(name, subject):
    """What ``surveys.mail.mime`` writes, a mail client reads back unchanged."""
    name, subject = display_name(name), display_name(subject)
    headers = [
        mime.header("From", mime.address("Nordljus", "nps@nordljus.example", utf8=False)),
        mime.header("To", mime.address(name, "anna@fjord.example", utf8=False)),
        mime.header("Subject", subject),
    ]
    raw = mime.alternative(headers, "text åäö\n" + subject, "<p>html</p>")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    raw.decode("ascii")  # 7-bit clean without SMTPUTF8
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Subject"] == subject
    [to] = message["To"].addresses
    assert (to.display_name, to.addr_spec) == (name, "anna@fjord.example")
    body = message.get_body(("plain",)).get_content()
    assert body.replace("\r\n", "\n") == "text åäö\n" + subject
