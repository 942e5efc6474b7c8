"""The staff's password-reset e-mail: a delivery row when asked for, built when sent."""

from datetime import datetime

import sqlalchemy as sa
from flask import render_template
from sqlalchemy.orm import Session

from surveys.auth.models import PasswordReset
from surveys.auth.services import reset_token, start_password_reset
from surveys.campaigns.tokens import link_key
from surveys.delivery.dispatcher import DispatchSettings, staff_message
from surveys.delivery.models import Delivery
from surveys.mail.messages import Outgoing, compose
from surveys.mail.transport import Envelope, RecipientRefusedError, envelope


def queue_password_reset(
    session: Session, email: str, config: dict, now: datetime
) -> PasswordReset | None:
    """A reset and the row of its e-mail, for the active user with this address; None
    when there is none. Flushes."""
    reset = start_password_reset(session, email, link_key=link_key(config["SECRET_KEY"]), now=now)
    if reset is None:
        return None
    session.add(
        Delivery(
            kind="password_reset",
            recipient=reset.user.email,
            payload={"reset_id": reset.id},
            state="queued",
            due_at=now,
            attempts=0,
            created_at=now,
        )
    )
    session.flush()
    return reset


@staff_message("password_reset")
def password_reset_message(
    session: Session, row: sa.Row, settings: DispatchSettings, message_id: str
) -> tuple[Outgoing, Envelope]:
    reset = session.get(PasswordReset, (row.payload or {}).get("reset_id"))
    if reset is None or reset.used_at is not None:
        raise RecipientRefusedError("the reset it belongs to is gone or used")
    token = reset_token(settings.link_key, reset.nonce)
    context = {
        "url": f"{settings.mail.base_url}/password/reset/{token}",
        "expires_at": reset.expires_at,
        "company": settings.mail.company,
    }
    addresses = envelope(settings.mail.sender, row.recipient)
    message = compose(
        addresses,
        sender_name=settings.mail.sender_name,
        recipient_name=None,
        subject="Choose a new password for Surveys",
        text=render_template("mail/staff/password_reset.txt", **context),
        html=render_template("mail/staff/password_reset.html", **context),
        message_id=message_id,
        language="en",
    )
    return message, addresses
