from flask import render_template
from flask_babel import force_locale, gettext
from flask_mail import Message

from surveys.accounts.models import Contact
from surveys.campaigns.models import Campaign
from surveys.respond.links import answer_url, unsubscribe_url

SCORES = range(11)


def invitation_message(
    campaign: Campaign, contact: Contact, token: str, *, base_url: str, sender: str
) -> Message:
    """The invitation for one contact, in the contact's language, with a plain-text part,
    an HTML part that renders in mail clients, a visible unsubscribe link and the
    RFC 8058 one-click unsubscribe headers."""
    unsubscribe = unsubscribe_url(base_url, token)
    context = {
        "campaign": campaign,
        "contact": contact,
        "answer_url": answer_url(base_url, token),
        "score_urls": [(score, answer_url(base_url, token, score)) for score in SCORES],
        "unsubscribe_url": unsubscribe,
    }
    with force_locale(contact.language):
        subject = (
            gettext("How likely are you to recommend us?")
            if campaign.kind == "nps"
            else gettext("Why did you leave us?")
        )
        text = render_template(f"mail/{campaign.kind}_invitation.txt", **context)
        html = render_template(f"mail/{campaign.kind}_invitation.html", **context)
    return Message(
        subject=subject,
        recipients=[(contact.name, contact.email) if contact.name else contact.email],
        body=text,
        html=html,
        sender=sender,
        extra_headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Content-Language": contact.language,
        },
    )
