"""The e-mails the platform sends, built from plain values: subject, text and HTML parts in
the contact's language, and headers that every mailbox provider reads as meant."""

import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import formatdate
from typing import Protocol

from surveys.i18n import customer_gettext, render_customer_template, translatable
from surveys.mail import mime
from surveys.mail.transport import Envelope, SMTPSettings, envelope
from surveys.respond.links import answer_url, unsubscribe_url

SCORES = range(11)
SUBJECTS = {
    "nps": translatable("How likely are you to recommend us?"),
    "exit": translatable("Why did you leave us?"),
}
COMPANY_SUBJECTS = {
    "nps": translatable("How likely are you to recommend %(company)s?"),
    "exit": translatable("Why did you leave %(company)s?"),
}
REMINDER_SUBJECT = translatable("Reminder: %(subject)s")
TEST_SUBJECT = "[Test] %(subject)s"
# Line breaks, tabs and other control characters, which have no place in a header's
# display name (an old import may have stored a name with one).
_HEADER_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


class CampaignFacts(Protocol):
    """What an invitation e-mail says about its campaign (a Campaign, or a plain row)."""

    kind: str
    closes_at: datetime


class ContactFacts(Protocol):
    email: str
    name: str | None
    language: str


@dataclass(frozen=True)
class MailSettings:
    """Where mail goes and who it says it is from, read once from the settings."""

    smtp: SMTPSettings
    base_url: str
    sender: str
    sender_name: str | None = None
    company: str | None = None
    logo_url: str | None = None

    @classmethod
    def from_config(cls, config: dict) -> "MailSettings":
        return cls(
            smtp=SMTPSettings.from_config(config),
            base_url=config["SURVEYS_BASE_URL"],
            sender=config["MAIL_DEFAULT_SENDER"],
            sender_name=config.get("MAIL_SENDER_NAME") or config.get("COMPANY_NAME"),
            company=config.get("COMPANY_NAME"),
            logo_url=config.get("COMPANY_LOGO_URL"),
        )


def display_name(text: str | None) -> str:
    return " ".join(_HEADER_BREAKS.sub(" ", text or "").split())


@dataclass(frozen=True)
class Outgoing:
    """A built e-mail: what it says, and the bytes the mail server receives."""

    subject: str
    text: str
    html: str
    data: bytes


def invitation_message(
    campaign: CampaignFacts,
    contact: ContactFacts,
    token: str,
    settings: MailSettings,
    *,
    message_id: str,
    reminder: bool = False,
    test: bool = False,
) -> tuple[Outgoing, Envelope]:
    """The invitation (or its reminder, or a staff member's test of it) for one contact, in
    the contact's language, with a plain-text part, an HTML part that renders in mail
    clients, a visible unsubscribe link and the RFC 8058 one-click unsubscribe headers;
    and the envelope to send it with. ``message_id`` is the local part of a Message-ID
    that stays the same however often the message is tried. Raises
    ``RecipientRefusedError`` when the address cannot be written on an envelope."""
    addresses = envelope(settings.sender, contact.email)
    unsubscribe = unsubscribe_url(settings.base_url, token)
    language = contact.language
    context = {
        "campaign": campaign,
        "contact": contact,
        "answer_url": answer_url(settings.base_url, token),
        "score_urls": [(score, answer_url(settings.base_url, token, score)) for score in SCORES],
        "unsubscribe_url": unsubscribe,
        "company": settings.company,
        "company_logo_url": settings.logo_url,
        "reminder": reminder,
    }
    if settings.company:
        subject = customer_gettext(
            language, COMPANY_SUBJECTS[campaign.kind], company=settings.company
        )
    else:
        subject = customer_gettext(language, SUBJECTS[campaign.kind])
    if reminder:
        subject = customer_gettext(language, REMINDER_SUBJECT, subject=subject)
    if test:
        subject = TEST_SUBJECT % {"subject": subject}
    text = render_customer_template(f"mail/{campaign.kind}_invitation.txt", language, **context)
    html = render_customer_template(f"mail/{campaign.kind}_invitation.html", language, **context)
    outgoing = compose(
        addresses,
        sender_name=settings.sender_name,
        recipient_name=contact.name,
        subject=subject,
        text=text,
        html=html,
        message_id=message_id,
        language=language,
        # As it is: a URL longer than a header line, with no space to fold at (RFC 8058).
        extra_headers=[
            ("List-Unsubscribe", f"<{unsubscribe}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ],
    )
    return outgoing, addresses


def compose(
    addresses: Envelope,
    *,
    sender_name: str | None,
    recipient_name: str | None,
    subject: str,
    text: str,
    html: str,
    message_id: str,
    language: str,
    extra_headers: list[tuple[str, str]] = (),
) -> Outgoing:
    """Any of our e-mails, from its parts: the one place headers are written."""
    utf8 = addresses.smtputf8
    domain = addresses.sender.rpartition("@")[2]
    subject = display_name(subject)
    headers = [
        mime.header(
            "From",
            mime.address(display_name(sender_name), addresses.sender, utf8=utf8),
            utf8=utf8,
        ),
        mime.header(
            "To",
            mime.address(display_name(recipient_name), addresses.recipient, utf8=utf8),
            utf8=utf8,
        ),
        mime.header("Subject", subject, utf8=utf8),
        mime.header("Date", formatdate(usegmt=True)),
        mime.header("Message-ID", f"<{message_id}@{domain}>"),
        mime.header("Content-Language", language),
        *(mime.header(name, value) for name, value in extra_headers),
    ]
    return Outgoing(subject, text, html, mime.alternative(headers, text, html, utf8=utf8))
