"""What a contact does through a personal link: find the invitation, answer, unsubscribe.

The answer page is the hot path of the product (every contact of every account, often
at once after a send), so it reads plain columns in one query rather than ORM objects.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from surveys.accounts.models import Contact
from surveys.accounts.services import unsubscribe_address
from surveys.campaigns.models import Campaign, Invitation, Response
from surveys.campaigns.tokens import token_hash
from surveys.columns import utcnow
from surveys.followups.services import needs_follow_up, open_follow_up
from surveys.reasons.services import classify_comment, store_reasons
from surveys.webhooks.services import answer_data, emit, follow_up_data

logger = logging.getLogger(__name__)

# What a contact answers; the answer forms' fields have the same names.
ANSWER_COLUMNS = (Response.score, Response.reason, Response.comment)


@dataclass(frozen=True)
class PersonalLink:
    """An invitation as its personal link sees it."""

    invitation_id: int
    kind: str
    closes_at: datetime
    language: str
    email: str
    # The stored answer by field name, with its id and answered_at; None before the first.
    answer: dict[str, object] | None

    def is_open(self, now: datetime) -> bool:
        return now < self.closes_at


# Built once: the answer page runs it on every request.
_LINK_BY_TOKEN = (
    sa.select(
        Invitation.id,
        Campaign.kind,
        Campaign.closes_at,
        Contact.language,
        Contact.email,
        Response.id,
        Response.answered_at,
        *ANSWER_COLUMNS,
    )
    .join(Campaign, Campaign.id == Invitation.campaign_id)
    .join(Contact, Contact.id == Invitation.contact_id)
    .outerjoin(Response, Response.invitation_id == Invitation.id)
    .where(Invitation.token_hash == sa.bindparam("token_hash"))
)


def find_link(session: Session, token: str) -> PersonalLink | None:
    """The invitation a token belongs to, or None."""
    if not token or len(token) > 100:
        return None
    # on the session's connection: the ORM layer adds nothing to a read of plain columns
    row = session.connection().execute(_LINK_BY_TOKEN, {"token_hash": token_hash(token)}).first()
    if row is None:
        return None
    invitation_id, kind, closes_at, language, email, response_id, answered_at, *answers = row
    answer = None
    if response_id is not None:
        answer = dict(zip((column.key for column in ANSWER_COLUMNS), answers, strict=True))
        answer.update(id=response_id, answered_at=answered_at)
    return PersonalLink(invitation_id, kind, closes_at, language, email, answer)


def find_open_link(session: Session, token: str, now: datetime) -> PersonalLink | None:
    """As ``find_link``, but None once the campaign has closed: an expired token is treated
    exactly like an unknown one."""
    link = find_link(session, token)
    if link is None or not link.is_open(now):
        return None
    return link


_responses = Response.__table__
_INSERT_ANSWER = sa.insert(_responses)
_UPDATE_ANSWER = sa.update(_responses).where(
    _responses.c.id == sa.bindparam("answered_response_id")
)


@dataclass
class AnswerOutcome:
    """What an answer queued, for the caller to have it sent: alert e-mails, webhooks."""

    mails: int = 0
    webhooks: int = 0


def record_answer(
    session: Session,
    link: PersonalLink,
    answers: dict[str, object],
    *,
    follow_up_due: timedelta,
    now: datetime | None = None,
) -> AnswerOutcome:
    """Store the contact's answer, replacing an earlier one to the same invitation, with
    what the reason classifier reads in its comment; a detractor's or an exit answer
    opens a follow-up (due ``follow_up_due`` later) and queues its alert, in the same
    transaction, with the webhook events of the new answer and follow-up. Commits;
    returns what it queued, for the caller to have it sent."""
    now = now or utcnow()
    columns, reasons = classify_comment(answers.get("comment"), link.language, now)
    values = {**answers, **columns, "answered_at": now}
    connection = session.connection()
    response_id = link.answer["id"] if link.answer else None
    inserted = False
    if response_id is None:
        try:
            result = connection.execute(
                _INSERT_ANSWER, {**values, "invitation_id": link.invitation_id, "created_at": now}
            )
            response_id, inserted = result.inserted_primary_key[0], True
        except sa.exc.IntegrityError:
            # The same person submitted twice at once and the other request stored first.
            session.rollback()
            connection = session.connection()
            response_id = connection.scalar(
                sa.select(_responses.c.id).where(_responses.c.invitation_id == link.invitation_id)
            )
    if not inserted:
        connection.execute(_UPDATE_ANSWER, {**values, "answered_response_id": response_id})
    store_reasons(connection, response_id, reasons, replace=not inserted)
    outcome = AnswerOutcome()
    if inserted:
        outcome.webhooks += emit(
            session, "answer.created", lambda: answer_data(session, response_id), now
        )
    if needs_follow_up(link.kind, answers.get("score")):
        opened = open_follow_up(
            connection,
            response_id=response_id,
            invitation_id=link.invitation_id,
            kind=link.kind,
            score=answers.get("score"),
            answered_before=not inserted,
            due_in=follow_up_due,
            now=now,
        )
        outcome.mails += opened.mails
        if opened.follow_up_id is not None:
            outcome.webhooks += emit(
                session,
                "follow_up.created",
                lambda: follow_up_data(session, opened.follow_up_id),
                now,
            )
    session.commit()
    logger.info("invitation %d answered", link.invitation_id)
    return outcome


def unsubscribe(session: Session, link: PersonalLink, now: datetime | None = None) -> None:
    """The contact's address is never mailed again, by any campaign."""
    count = unsubscribe_address(session, link.email, now or utcnow())
    session.commit()
    logger.info("invitation %d: address unsubscribed (%d contacts)", link.invitation_id, count)
