"""Creating campaigns and sending their invitations."""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, joinedload

from surveys.accounts.models import Account, Contact
from surveys.campaigns.models import (
    SEND_ERROR_MAX_LENGTH,
    SURVEY_KINDS,
    Campaign,
    Invitation,
    Response,
    campaign_accounts,
)
from surveys.campaigns.tokens import new_token, token_hash
from surveys.columns import utcnow
from surveys.mail.messages import MailSettings, invitation_message
from surveys.mail.transport import MailServerError, RecipientRefusedError, SMTPTransport

logger = logging.getLogger(__name__)

NAME_MAX_LENGTH = 200
MAX_DAYS_OPEN = 366
# A sender that took an invitation and vanished (killed mid-send) gives it up after this.
CLAIM_TIMEOUT = timedelta(minutes=15)
# Rows per multi-row INSERT: three parameters each, under SQLite's 32,766.
INSERT_CHUNK = 5000


class CampaignError(Exception):
    """A campaign request that cannot be done; the message says why."""


@dataclass(frozen=True)
class SendProblem:
    """A contact whose invitation did not go, and why (the mail server's answer or what
    was wrong with the message)."""

    email: str
    reason: str


@dataclass
class SendResult:
    sent: int = 0
    invited: int = 0
    problems: list[SendProblem] = field(default_factory=list)
    # Why the run ended before every invitation was tried, if it did.
    stopped: str | None = None

    @property
    def failed(self) -> int:
        return len(self.problems)


def split_account_ids(text: str | None) -> list[str]:
    """ "A1, A2,,A3" -> ["A1", "A2", "A3"], as the CLI and the page take them."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def create_campaign(
    session: Session,
    *,
    kind: str,
    name: str,
    days_open: int,
    account_ids: list[str] | None = None,
    now: datetime | None = None,
) -> Campaign:
    """An NPS campaign asks every active account. An exit campaign asks the accounts
    named by ``account_ids`` (the CSV's account_id), or else every account that churned
    since the last exit campaign was created."""
    now = now or utcnow()
    name = name.strip()
    if kind not in SURVEY_KINDS:
        raise CampaignError(f"the kind must be one of {', '.join(SURVEY_KINDS)}, not {kind!r}")
    if not name:
        raise CampaignError("the campaign needs a name")
    if len(name) > NAME_MAX_LENGTH:
        raise CampaignError(f"the name is longer than {NAME_MAX_LENGTH} characters")
    if not 1 <= days_open <= MAX_DAYS_OPEN:
        raise CampaignError(f"a campaign stays open from 1 to {MAX_DAYS_OPEN} days")
    if account_ids and kind != "exit":
        raise CampaignError("only an exit campaign is sent to chosen accounts")
    campaign = Campaign(kind=kind, name=name, created_at=now, closes_at=now + timedelta(days_open))
    if kind == "exit":
        campaign.accounts = _exit_accounts(session, account_ids)
    session.add(campaign)
    session.commit()
    logger.info("campaign %d created (%s)", campaign.id, kind)
    return campaign


def _exit_accounts(session: Session, account_ids: list[str] | None) -> list[Account]:
    if account_ids:
        wanted = list(dict.fromkeys(account_id.strip() for account_id in account_ids))
        accounts = session.scalars(sa.select(Account).where(Account.external_id.in_(wanted))).all()
        unknown = sorted(set(wanted) - {account.external_id for account in accounts})
        if unknown:
            raise CampaignError(f"there is no account {', '.join(unknown)}")
        return list(accounts)
    last_exit = session.scalar(
        sa.select(sa.func.max(Campaign.created_at)).where(Campaign.kind == "exit")
    )
    churned = sa.select(Account).where(Account.status == "churned")
    if last_exit is not None:
        churned = churned.where(Account.churned_at > last_exit)
    accounts = session.scalars(churned.order_by(Account.external_id)).all()
    if not accounts:
        since = f" since the last exit campaign ({last_exit:%Y-%m-%d})" if last_exit else ""
        raise CampaignError(f"no account has churned{since}; name the accounts with --accounts")
    return list(accounts)


def audience(campaign: Campaign) -> sa.Select:
    """The ids of the contacts a campaign asks: for NPS every subscribed contact of every
    active account (churned accounts are not asked for NPS); for an exit survey every
    subscribed contact of the campaign's accounts."""
    contacts = sa.select(Contact.id).join(Account).where(Contact.unsubscribed_at.is_(None))
    if campaign.kind == "exit":
        return contacts.where(
            Account.id.in_(
                sa.select(campaign_accounts.c.account_id).where(
                    campaign_accounts.c.campaign_id == campaign.id
                )
            )
        )
    return contacts.where(Account.status == "active")


def send_campaign(
    session: Session,
    campaign_id: int,
    *,
    mail: MailSettings,
    now: datetime | None = None,
) -> SendResult:
    """Invite every contact of the audience who has no invitation yet, then mail every
    invitation not yet sent, one message per contact, over one SMTP connection. Sending
    again never mails a contact twice; contacts added since the last send get theirs now.

    A recipient the server refuses, or whose message cannot be built, is reported in
    ``result.problems`` with the reason and stays unsent (the next send tries it again);
    the others go in the same run. A server that cannot be reached is a CampaignError
    before anything is claimed; one that stops answering midway ends the run with
    ``result.stopped`` saying why."""
    now = now or utcnow()
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignError(f"there is no campaign {campaign_id}")
    if not campaign.is_open(now):
        raise CampaignError(
            f"campaign {campaign_id} closed on {campaign.closes_at:%Y-%m-%d %H:%M} UTC; "
            "its links no longer work, so nothing was sent"
        )
    result = SendResult(invited=_invite_audience(session, campaign, now))
    session.commit()

    eligible = audience(campaign).subquery()
    pending = session.scalars(
        sa.select(Invitation)
        .where(
            Invitation.campaign_id == campaign.id,
            Invitation.sent_at.is_(None),
            Invitation.contact_id.in_(sa.select(eligible.c.id)),
        )
        .options(joinedload(Invitation.contact))
        .order_by(Invitation.id)
    ).all()
    if not pending:
        return result

    with SMTPTransport(mail.smtp) as transport:
        try:
            transport.connect()
        except MailServerError as error:
            raise CampaignError(f"{error}; nothing was sent, send again when it is up") from None
        for invitation in pending:
            token = new_token()
            if not _claim(session, invitation, token, now):
                continue
            try:
                message, addresses = invitation_message(campaign, invitation.contact, token, mail)
                transport.send(message, addresses)
            except RecipientRefusedError as refusal:
                _release(session, invitation, refusal.reason)
                result.problems.append(SendProblem(invitation.contact.email, refusal.reason))
                logger.warning(
                    "invitation %d not sent: %s", invitation.id, refusal.code or "not sendable"
                )
                continue
            except MailServerError as error:
                # The message may or may not have reached the server; it is released, and
                # the next message tries a new connection once.
                _release(session, invitation, str(error))
                result.problems.append(SendProblem(invitation.contact.email, str(error)))
                logger.warning("invitation %d not sent: the mail server went away", invitation.id)
                try:
                    transport.connect()
                except MailServerError as again:
                    result.stopped = f"{again}; the rest were not sent, send again to go on"
                    break
                continue
            invitation.sent_at = utcnow()
            invitation.send_error = None
            session.commit()
            result.sent += 1
    logger.info(
        "campaign %d: %d sent, %d not sent, %d newly invited",
        campaign.id,
        result.sent,
        len(result.problems),
        result.invited,
    )
    return result


def _invite_audience(session: Session, campaign: Campaign, now: datetime) -> int:
    """Add an invitation for every contact of the audience who has none. Two senders
    may do this at once: a contact the other one invited first is skipped, not an error."""
    already = sa.select(Invitation.contact_id).where(Invitation.campaign_id == campaign.id)
    missing = audience(campaign).where(Contact.id.not_in(already))
    contact_ids = session.scalars(missing).all()
    if not contact_ids:
        return 0
    insert = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}[
        session.get_bind().dialect.name
    ]
    invited = 0
    for start in range(0, len(contact_ids), INSERT_CHUNK):
        statement = (
            insert(Invitation)
            .values(
                [
                    {"campaign_id": campaign.id, "contact_id": contact_id, "created_at": now}
                    for contact_id in contact_ids[start : start + INSERT_CHUNK]
                ]
            )
            .on_conflict_do_nothing(index_elements=["campaign_id", "contact_id"])
        )
        invited += session.execute(statement).rowcount
    return invited


def _claim(session: Session, invitation: Invitation, token: str, now: datetime) -> bool:
    """Take the invitation for this sender and give it its token, unless another sender
    has it or it went out meanwhile."""
    claimed = session.execute(
        sa.update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.sent_at.is_(None),
            sa.or_(Invitation.claimed_at.is_(None), Invitation.claimed_at < now - CLAIM_TIMEOUT),
        )
        .values(token_hash=token_hash(token), claimed_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    return claimed == 1


def _release(session: Session, invitation: Invitation, reason: str) -> None:
    """Give the invitation back, unsent, with why: the next send tries it again."""
    session.execute(
        sa.update(Invitation)
        .where(Invitation.id == invitation.id)
        .values(token_hash=None, claimed_at=None, send_error=reason[:SEND_ERROR_MAX_LENGTH])
        .execution_options(synchronize_session=False)
    )
    session.commit()


def campaign_summaries(session: Session, now: datetime | None = None) -> list[dict]:
    """Every campaign with its invitation, sent and answered counts and whether it is still
    open, newest first."""
    now = now or utcnow()
    rows = session.execute(
        sa.select(
            Campaign,
            sa.func.count(Invitation.id),
            sa.func.count(Invitation.sent_at),
            sa.func.count(Response.id),
        )
        .outerjoin(Invitation, Invitation.campaign_id == Campaign.id)
        .outerjoin(Response, Response.invitation_id == Invitation.id)
        .group_by(Campaign.id)
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())
    ).all()
    return [
        {
            "campaign": campaign,
            "invited": invited,
            "sent": sent,
            "answered": answered,
            "open": campaign.is_open(now),
        }
        for campaign, invited, sent, answered in rows
    ]
