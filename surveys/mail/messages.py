"""The e-mails the platform sends, built from plain values: subject, text and HTML parts in
the contact's language, and headers that every mailbox provider reads as meant."""

import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from surveys.accounts.models import Contact
from surveys.campaigns.models import Campaign
from surveys.i18n import customer_gettext, render_customer_template, translatable
from surveys.mail.transport import POLICY, Envelope, SMTPSettings, envelope
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
# Line breaks, tabs and other control characters, which have no place in a header's
# display name (an old import may have stored a name with one).
_HEADER_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


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


def _address(name: str | None, address: str) -> Address:
    username, _, domain = address.rpartition("@")
    return Address(display_name=display_name(name), username=username, domain=domain)


def invitation_message(
    campaign: Campaign, contact: Contact, token: str, settings: MailSettings
) -> tuple[EmailMessage, Envelope]:
    """The invitation for one contact, in the contact's language, with a plain-text part,
    an HTML part that renders in mail clients, a visible unsubscribe link and the
    RFC 8058 one-click unsubscribe headers; and the envelope to send it with. Raises
    ``RecipientRefusedError`` when the contact's address cannot be written on an envelope."""
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
    }
    if settings.company:
        subject = customer_gettext(
            language, COMPANY_SUBJECTS[campaign.kind], company=settings.company
        )
    else:
        subject = customer_gettext(language, SUBJECTS[campaign.kind])

    message = EmailMessage(policy=POLICY)
    message["Subject"] = subject
    message["From"] = _address(settings.sender_name, addresses.sender)
    message["To"] = _address(contact.name, addresses.recipient)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=addresses.sender.rpartition("@")[2])
    # As it is: a URL longer than a header line, with no space to fold at (RFC 8058).
    message.set_raw("List-Unsubscribe", f"<{unsubscribe}>")
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(
        render_customer_template(f"mail/{campaign.kind}_invitation.txt", language, **context),
        cte="quoted-printable",
    )
    message.add_alternative(
        render_customer_template(f"mail/{campaign.kind}_invitation.html", language, **context),
        subtype="html",
        cte="quoted-printable",
    )
    # After the parts: setting content moves or clears every Content-* header.
    message["Content-Language"] = language
    return message, addresses
