"""The staff's follow-up e-mails: the alert of a new follow-up and the weekly digest of
overdue ones. Delivery rows when caused, built from the database when sent. They link to
the follow-up pages (which ask for a sign-in), never to a customer's personal link, and
their headers carry no words of the customer's."""

from datetime import datetime

import sqlalchemy as sa
from flask import render_template
from sqlalchemy.orm import Session

from surveys.auth.models import User
from surveys.delivery.dispatcher import DispatchSettings, staff_message
from surveys.followups.links import follow_up_url, list_url
from surveys.followups.models import FollowUp, FollowUpDigest
from surveys.followups.services import with_people
from surveys.mail.messages import Outgoing, compose
from surveys.mail.transport import Envelope, RecipientRefusedError, envelope


def _what(follow_up: FollowUp) -> str:
    """What the follow-up is about, for a subject line: "score 3" or "exit survey"."""
    if follow_up.kind == "exit":
        return "exit survey"
    return f"score {follow_up.score}"


def _message(
    settings: DispatchSettings,
    recipient: str,
    message_id: str,
    subject: str,
    template: str,
    **context: object,
) -> tuple[Outgoing, Envelope]:
    addresses = envelope(settings.mail.sender, recipient)
    context["company"] = settings.mail.company
    message = compose(
        addresses,
        sender_name=settings.mail.sender_name,
        recipient_name=None,
        subject=subject,
        text=render_template(f"mail/staff/{template}.txt", **context),
        html=render_template(f"mail/staff/{template}.html", **context),
        message_id=message_id,
        language="en",
    )
    return message, addresses


@staff_message("follow_up_alert")
def follow_up_alert_message(
    session: Session, row: sa.Row, settings: DispatchSettings, message_id: str
) -> tuple[Outgoing, Envelope]:
    follow_up = session.scalar(
        with_people(
            sa.select(FollowUp).where(FollowUp.id == (row.payload or {}).get("follow_up_id"))
        )
    )
    if follow_up is None:
        raise RecipientRefusedError("the follow-up it announced is gone")
    return _message(
        settings,
        row.recipient,
        message_id,
        f"Follow up with {follow_up.account.name}: {_what(follow_up)}",
        "follow_up_alert",
        follow_up=follow_up,
        response=follow_up.response,
        contact=follow_up.response.invitation.contact,
        url=follow_up_url(settings.mail.base_url, follow_up.id),
    )


@staff_message("follow_up_digest")
def follow_up_digest_message(
    session: Session, row: sa.Row, settings: DispatchSettings, message_id: str
) -> tuple[Outgoing, Envelope]:
    payload = row.payload or {}
    digest = session.get(FollowUpDigest, payload.get("digest_id"))
    if digest is None:
        raise RecipientRefusedError("the digest it belongs to is gone")
    user = session.get(User, digest.user_id)
    follow_ups = session.scalars(
        with_people(
            sa.select(FollowUp).where(FollowUp.id.in_(payload.get("follow_up_ids", [])))
        ).order_by(FollowUp.due_at, FollowUp.id)
    ).all()
    count = len(follow_ups)
    return _message(
        settings,
        row.recipient,
        message_id,
        f"{count} overdue follow-up{'' if count == 1 else 's'} ({digest.week})",
        "follow_up_digest",
        digest=digest,
        user=user,
        follow_ups=[
            (follow_up, follow_up_url(settings.mail.base_url, follow_up.id))
            for follow_up in follow_ups
        ],
        list_url=list_url(settings.mail.base_url, overdue="1"),
        as_of=digest.created_at,
        days_late=_days_late,
    )


def _days_late(follow_up: FollowUp, moment: datetime) -> int:
    return max(0, (moment - follow_up.due_at).days)
