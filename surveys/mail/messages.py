from flask_mail import Message

from surveys.accounts.models import Contact
from surveys.campaigns.models import Campaign
from surveys.i18n import customer_gettext, render_customer_template, translatable
from surveys.respond.links import answer_url, unsubscribe_url

SCORES = range(11)
SUBJECTS = {
    "nps": translatable("How likely are you to recommend us?"),
    "exit": translatable("Why did you leave us?"),
}


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
    language = contact.language
    return Message(
        subject=customer_gettext(language, SUBJECTS[campaign.kind]),
        recipients=[(contact.name, contact.email) if contact.name else contact.email],
        body=render_customer_template(f"mail/{campaign.kind}_invitation.txt", language, **context),
        html=render_customer_template(f"mail/{campaign.kind}_invitation.html", language, **context),
        sender=sender,
        extra_headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Content-Language": contact.language,
        },
    )
