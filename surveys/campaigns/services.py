"""Creating campaigns and sending their invitations."""

import logging
import smtplib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_mail import Connection
from sqlalchemy.orm import Session, joinedload

from surveys.accounts.models import Account, Contact
from surveys.campaigns.models import (
    SURVEY_KINDS,
    Campaign,
    Invitation,
    Response,
    campaign_accounts,
)
from surveys.campaigns.tokens import new_token, token_hash
from surveys.columns import utcnow
from surveys.extensions import mail
from surveys.mail.messages import invitation_message

logger = logging.getLogger(__name__)

NAME_MAX_LENGTH = 200
MAX_DAYS_OPEN = 366
# A sender that took an invitation and vanished (killed mid-send) gives it up after this.
CLAIM_TIMEOUT = timedelta(minutes=15)


class CampaignError(Exception):
    """A campaign request that cannot be done; the message says why."""


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0
    invited: int = 0


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
    base_url: str,
    sender: str,
    now: datetime | None = None,
) -> SendResult:
    """Invite every contact of the audience who has no invitation yet, then mail every
    invitation not yet sent, one message per contact. Sending again never mails a contact
    twice; contacts added since the last send get theirs now."""
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

    with _smtp_connection() as connection:
        for invitation in pending:
            token = new_token()
            if not _claim(session, invitation, token, now):
                continue
            message = invitation_message(
                campaign, invitation.contact, token, base_url=base_url, sender=sender
            )
            try:
                connection.send(message)
            except smtplib.SMTPRecipientsRefused as error:
                logger.warning("invitation %d refused by the mail server: %s", invitation.id, error)
                _release(session, invitation)
                result.failed += 1
                continue
            except (smtplib.SMTPException, OSError) as error:
                logger.warning("invitation %d not sent, stopping: %s", invitation.id, error)
                _release(session, invitation)
                result.failed += 1
                break
            invitation.sent_at = utcnow()
            session.commit()
            result.sent += 1
    logger.info(
        "campaign %d: %d sent, %d failed, %d newly invited",
        campaign.id,
        result.sent,
        result.failed,
        result.invited,
    )
    return result


@contextmanager
def _smtp_connection() -> Iterator[Connection]:
    """One SMTP connection for a whole send; a server that cannot be reached is a
    CampaignError, and a server that hangs up at the end is no error."""
    connection = mail.connect()
    try:
        connection.__enter__()
    except OSError as error:
        state = current_app.extensions["mail"]
        raise CampaignError(
            f"cannot reach the mail server at {state.server}:{state.port} ({error}); "
            "nothing was sent, send again when it is up"
        ) from None
    try:
        yield connection
    finally:
        with suppress(OSError):
            connection.__exit__(None, None, None)


def _invite_audience(session: Session, campaign: Campaign, now: datetime) -> int:
    already = sa.select(Invitation.contact_id).where(Invitation.campaign_id == campaign.id)
    missing = audience(campaign).where(Contact.id.not_in(already))
    contact_ids = session.scalars(missing).all()
    if contact_ids:
        session.execute(
            sa.insert(Invitation),
            [
                {"campaign_id": campaign.id, "contact_id": contact_id, "created_at": now}
                for contact_id in contact_ids
            ],
        )
    return len(contact_ids)


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


def _release(session: Session, invitation: Invitation) -> None:
    session.execute(
        sa.update(Invitation)
        .where(Invitation.id == invitation.id)
        .values(token_hash=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def campaign_summaries(session: Session) -> list[dict]:
    """Every campaign with its invitation, sent and answered counts, newest first."""
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
        {"campaign": campaign, "invited": invited, "sent": sent, "answered": answered}
        for campaign, invited, sent, answered in rows
    ]
