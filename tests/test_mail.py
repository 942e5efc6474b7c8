"""The invitation e-mail as it arrives at a real SMTP server."""

import re
from datetime import UTC, datetime

import pytest

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
