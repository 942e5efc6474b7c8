"""What a contact does through a personal link: find the invitation, answer, unsubscribe."""

import logging
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, contains_eager

from surveys.accounts.services import unsubscribe_address
from surveys.campaigns.models import Invitation, Response
from surveys.campaigns.tokens import token_hash
from surveys.columns import utcnow

logger = logging.getLogger(__name__)


def find_invitation(session: Session, token: str) -> Invitation | None:
    """The invitation a token belongs to, with its campaign, contact and answer, or None."""
    if not token or len(token) > 100:
        return None
    return session.scalar(
        sa.select(Invitation)
        .join(Invitation.campaign)
        .join(Invitation.contact)
        .outerjoin(Invitation.response)
        .where(Invitation.token_hash == token_hash(token))
        .options(
            contains_eager(Invitation.campaign),
            contains_eager(Invitation.contact),
            contains_eager(Invitation.response),
        )
    )


def find_open_invitation(session: Session, token: str, now: datetime) -> Invitation | None:
    """As ``find_invitation``, but None once the campaign has closed: an expired token is
    treated exactly like an unknown one."""
    invitation = find_invitation(session, token)
    if invitation is None or not invitation.campaign.is_open(now):
        return None
    return invitation


def record_answer(
    session: Session,
    invitation: Invitation,
    answers: dict[str, object],
    now: datetime | None = None,
) -> Response:
    """Store the contact's answer, replacing an earlier one to the same invitation."""
    now = now or utcnow()
    response = invitation.response
    if response is None:
        response = Response(invitation=invitation, created_at=now)
        session.add(response)
    _fill(response, answers, now)
    try:
        session.commit()
    except sa.exc.IntegrityError:
        # The same person submitted twice at once and the other request stored first.
        session.rollback()
        response = session.scalars(
            sa.select(Response).where(Response.invitation_id == invitation.id)
        ).one()
        _fill(response, answers, now)
        session.commit()
    logger.info("invitation %d answered", invitation.id)
    return response


def _fill(response: Response, answers: dict[str, object], now: datetime) -> None:
    for field, value in answers.items():
        setattr(response, field, value)
    response.answered_at = now


def unsubscribe(session: Session, invitation: Invitation, now: datetime | None = None) -> None:
    """The contact's address is never mailed again, by any campaign."""
    count = unsubscribe_address(session, invitation.contact.email, now or utcnow())
    session.commit()
    logger.info("invitation %d: address unsubscribed (%d contacts)", invitation.id, count)
