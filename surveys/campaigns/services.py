"""Creating campaigns, queueing their invitations and reminders, and what became of them.

Queueing only writes rows (invitations and their deliveries) and commits; the dispatcher
(`surveys.delivery`) sends them. Every function here flushes or commits as its docstring
says and reads nothing from Flask."""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from surveys.accounts.models import LANGUAGES, Account, Contact
from surveys.campaigns.models import (
    SURVEY_KINDS,
    Campaign,
    Invitation,
    Response,
    ResponseReason,
    campaign_accounts,
)
from surveys.campaigns.tokens import new_nonce, token_for, token_hash
from surveys.columns import utcnow
from surveys.delivery.models import PENDING, STATES, Delivery
from surveys.mail.messages import MailSettings, invitation_message

if TYPE_CHECKING:
    from surveys.delivery.dispatcher import DispatchSettings

logger = logging.getLogger(__name__)

NAME_MAX_LENGTH = 200
MAX_DAYS_OPEN = 366
MAX_REMIND_AFTER_DAYS = MAX_DAYS_OPEN
# Rows per multi-row INSERT: at most five parameters each, under SQLite's 32,766.
INSERT_CHUNK = 5000
# The states a staff member may queue again on purpose.
RETRY_STATES = ("failed", "unknown")
ADDRESS_MAX_LENGTH = 254
# Who the preview of a campaign's e-mail greets, in each language.
SAMPLE_NAMES = {"sv": "Anna Lindqvist", "nb": "Kari Nordmann", "en": "Alex Morgan"}
SAMPLE_ADDRESS = "contact@example.com"


class CampaignError(Exception):
    """A campaign request that cannot be done; the message says why."""


class NoChurnedAccountsError(CampaignError):
    """An exit campaign named no accounts and none churned since ``last_exit``."""

    def __init__(self, last_exit: datetime | None):
        since = f" since the last exit campaign ({last_exit:%Y-%m-%d})" if last_exit else ""
        super().__init__(f"no account has churned{since}; name the accounts with --accounts")
        self.since = since


@dataclass
class QueueResult:
    """What ``queue_campaign`` did: contacts newly invited, e-mails queued, and contacts
    skipped by reason."""

    invited: int = 0
    queued: int = 0
    skipped: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    """A contact whose e-mail did not go (or may not have), and why."""

    contact_email: str
    state: str
    reason: str | None
    kind: str = "invitation"

    def as_json(self) -> dict:
        return {"contact_email": self.contact_email, "state": self.state, "reason": self.reason}


@dataclass
class CampaignStatus:
    """``states`` counts invitation e-mails, ``reminder_states`` reminders; ``problems``
    may be one page of them, ``problem_count`` is how many there are."""

    campaign: Campaign
    states: dict[str, int]
    reminders_sent: int
    problems: list[Problem]
    problem_count: int
    reminder_states: dict[str, int] = field(default_factory=dict)

    @property
    def in_flight(self) -> int:
        """Invitations not yet decided: queued or being handed to the mail server."""
        return self.states["queued"] + self.states["sending"]

    def as_json(self) -> dict:
        return {
            "campaign": self.campaign.id,
            "states": self.states,
            "reminders_sent": self.reminders_sent,
            "problems": [problem.as_json() for problem in self.problems],
            "problem_count": self.problem_count,
        }


@dataclass(frozen=True)
class ChurnedAccount:
    """An account an exit campaign can ask. ``since_last_exit``: it churned after the last
    exit campaign was created, so an exit campaign with no accounts named asks it."""

    external_id: str
    name: str
    churned_at: datetime | None
    since_last_exit: bool


@dataclass(frozen=True)
class Preview:
    """A campaign's invitation as a contact gets it, in one language."""

    language: str
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class _SampleContact:
    email: str
    name: str
    language: str


def split_account_ids(text: str | None) -> list[str]:
    """ "A1, A2,,A3" -> ["A1", "A2", "A3"], as the CLI and the page take them."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def create_campaign(
    session: Session,
    *,
    kind: str,
    name: str,
    days_open: int,
    remind_after_days: int | None,
    account_ids: list[str] | None = None,
    now: datetime | None = None,
) -> Campaign:
    """An NPS campaign asks every active account. An exit campaign asks the accounts
    named by ``account_ids`` (the CSV's account_id), or else every account that churned
    since the last exit campaign was created. Contacts who have not answered get one
    reminder ``remind_after_days`` after their invitation (None: no reminder)."""
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
    if remind_after_days is not None and not 0 <= remind_after_days <= MAX_REMIND_AFTER_DAYS:
        raise CampaignError(
            f"a reminder goes 0 to {MAX_REMIND_AFTER_DAYS} days after the invitation"
        )
    campaign = Campaign(
        kind=kind,
        name=name,
        created_at=now,
        closes_at=now + timedelta(days_open),
        remind_after_days=remind_after_days,
    )
    if kind == "exit":
        campaign.accounts = _exit_accounts(session, account_ids)
    session.add(campaign)
    session.commit()
    logger.info("campaign %d created (%s)", campaign.id, kind)
    return campaign


def get_campaign(session: Session, campaign_id: int) -> Campaign | None:
    return session.get(Campaign, campaign_id)


def _last_exit_campaign_at(session: Session) -> datetime | None:
    return session.scalar(
        sa.select(sa.func.max(Campaign.created_at)).where(Campaign.kind == "exit")
    )


def churned_accounts(session: Session) -> list[ChurnedAccount]:
    """Every churned account, the latest churn first, marked when an exit campaign that
    names no accounts would ask it (the same rule as ``create_campaign``)."""
    last_exit = _last_exit_campaign_at(session)
    rows = session.execute(
        sa.select(Account.external_id, Account.name, Account.churned_at)
        .where(Account.status == "churned")
        .order_by(Account.churned_at.desc().nulls_last(), Account.external_id)
    ).all()
    return [
        ChurnedAccount(
            external_id,
            name,
            churned_at,
            last_exit is None or (churned_at is not None and churned_at > last_exit),
        )
        for external_id, name, churned_at in rows
    ]


def _exit_accounts(session: Session, account_ids: list[str] | None) -> list[Account]:
    if account_ids:
        wanted = list(dict.fromkeys(account_id.strip() for account_id in account_ids))
        accounts = session.scalars(sa.select(Account).where(Account.external_id.in_(wanted))).all()
        unknown = sorted(set(wanted) - {account.external_id for account in accounts})
        if unknown:
            raise CampaignError(f"there is no account {', '.join(unknown)}")
        return list(accounts)
    last_exit = _last_exit_campaign_at(session)
    churned = sa.select(Account).where(Account.status == "churned")
    if last_exit is not None:
        churned = churned.where(Account.churned_at > last_exit)
    accounts = session.scalars(churned.order_by(Account.external_id)).all()
    if not accounts:
        raise NoChurnedAccountsError(last_exit)
    return list(accounts)


def audience(campaign: Campaign) -> sa.Select:
    """The ids of the contacts a campaign asks: for NPS every contact of every active
    account (churned accounts are not asked for NPS); for an exit survey every contact of
    the campaign's accounts. Those who must not be mailed are queued as skipped; erased
    people are not asked at all."""
    contacts = sa.select(Contact.id).join(Account).where(Contact.erased_at.is_(None))
    if campaign.kind == "exit":
        return contacts.where(
            Account.id.in_(
                sa.select(campaign_accounts.c.account_id).where(
                    campaign_accounts.c.campaign_id == campaign.id
                )
            )
        )
    return contacts.where(Account.status == "active")


def queue_campaign(
    session: Session,
    campaign_id: int,
    *,
    link_key: bytes,
    fatigue_days: int,
    now: datetime | None = None,
) -> QueueResult:
    """Invite every contact of the audience who has no invitation yet and queue the
    invitation e-mail of every invitation that has none; commits. A contact who is
    unsubscribed, undeliverable, or (for NPS) got another NPS invitation in the last
    ``fatigue_days`` is queued as skipped with that reason. Safe to run again and by
    several senders at once: nobody is invited or queued twice."""
    now = now or utcnow()
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignError(f"there is no campaign {campaign_id}")
    if not campaign.is_open(now):
        raise CampaignError(
            f"campaign {campaign_id} closed on {campaign.closes_at:%Y-%m-%d %H:%M} UTC; "
            "its links no longer work, so nothing was sent"
        )
    result = QueueResult(invited=_invite_audience(session, campaign, link_key, now))
    reason = _skip_reason(campaign, fatigue_days, now)
    unqueued = (
        sa.select(Invitation.id, Invitation.campaign_id, reason.label("reason"))
        .join(Contact, Contact.id == Invitation.contact_id)
        .where(
            Invitation.campaign_id == campaign.id,
            ~sa.exists().where(
                Delivery.invitation_id == Invitation.id, Delivery.kind == "invitation"
            ),
        )
    )
    rows = session.execute(unqueued).all()
    _insert_ignoring_duplicates(
        session,
        Delivery,
        [
            {
                "kind": "invitation",
                "campaign_id": row.campaign_id,
                "invitation_id": row.id,
                "state": "skipped" if row.reason else "queued",
                "reason": row.reason,
                "due_at": None if row.reason else now,
                "attempts": 0,
                "created_at": now,
            }
            for row in rows
        ],
        ["invitation_id", "kind"],
    )
    for row in rows:
        if row.reason:
            result.skipped[row.reason] = result.skipped.get(row.reason, 0) + 1
        else:
            result.queued += 1
    session.commit()
    logger.info(
        "campaign %d: %d invited, %d queued, %d skipped",
        campaign.id,
        result.invited,
        result.queued,
        sum(result.skipped.values()),
    )
    return result


def _skip_reason(campaign: Campaign, fatigue_days: int, now: datetime) -> sa.Case:
    """SQL: why a contact of the campaign is not mailed, or NULL."""
    whens = [
        (Contact.unsubscribed_at.is_not(None), "unsubscribed"),
        (Contact.undeliverable_at.is_not(None), "undeliverable"),
    ]
    if campaign.kind == "nps" and fatigue_days > 0:
        other = sa.orm.aliased(Invitation)
        other_campaign = sa.orm.aliased(Campaign)
        recently_asked = (
            sa.exists()
            .where(
                other.contact_id == Invitation.contact_id,
                other.campaign_id != campaign.id,
                other.sent_at >= now - timedelta(days=fatigue_days),
            )
            .where(other_campaign.id == other.campaign_id, other_campaign.kind == "nps")
        )
        whens.append((recently_asked, "fatigue"))
    return sa.case(*whens, else_=sa.null())


def _invite_audience(session: Session, campaign: Campaign, link_key: bytes, now: datetime) -> int:
    """Add an invitation, with its link's nonce and hash, for every contact of the audience
    who has none. Another sender doing the same at once is not an error: whichever
    invites a contact first, the other skips it."""
    already = sa.select(Invitation.contact_id).where(Invitation.campaign_id == campaign.id)
    contact_ids = session.scalars(audience(campaign).where(Contact.id.not_in(already))).all()
    rows = []
    for contact_id in contact_ids:
        nonce = new_nonce()
        rows.append(
            {
                "campaign_id": campaign.id,
                "contact_id": contact_id,
                "token_nonce": nonce,
                "token_hash": token_hash(token_for(link_key, nonce)),
                "created_at": now,
            }
        )
    return _insert_ignoring_duplicates(session, Invitation, rows, ["campaign_id", "contact_id"])


def _insert_ignoring_duplicates(
    session: Session, model: type, rows: list[dict], key: list[str]
) -> int:
    """INSERT ... ON CONFLICT (key) DO NOTHING, in chunks; returns the rows inserted."""
    if not rows:
        return 0
    insert = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}[
        session.get_bind().dialect.name
    ]
    inserted = 0
    for start in range(0, len(rows), INSERT_CHUNK):
        statement = (
            insert(model)
            .values(rows[start : start + INSERT_CHUNK])
            .on_conflict_do_nothing(index_elements=key)
        )
        inserted += session.execute(statement).rowcount
    return inserted


def queue_reminders(session: Session, now: datetime | None = None) -> int:
    """Queue the one reminder of every invitation that is due one: its campaign reminds
    and is open, its invitation went out ``remind_after_days`` ago or more, and its
    contact has not answered, unsubscribed or bounced. Never two (a unique key);
    commits. Returns how many were queued."""
    now = now or utcnow()
    campaigns = session.execute(
        sa.select(Campaign.id, Campaign.remind_after_days).where(
            Campaign.remind_after_days.is_not(None), Campaign.closes_at > now
        )
    ).all()
    queued = 0
    for campaign_id, days in campaigns:
        due = (
            sa.select(Invitation.id)
            .join(Contact, Contact.id == Invitation.contact_id)
            .where(
                Invitation.campaign_id == campaign_id,
                Invitation.sent_at <= now - timedelta(days=days),
                Invitation.token_nonce.is_not(None),
                Contact.unsubscribed_at.is_(None),
                Contact.undeliverable_at.is_(None),
                ~sa.exists().where(Response.invitation_id == Invitation.id),
                ~sa.exists().where(
                    Delivery.invitation_id == Invitation.id, Delivery.kind == "reminder"
                ),
            )
        )
        queued += _insert_ignoring_duplicates(
            session,
            Delivery,
            [
                {
                    "kind": "reminder",
                    "campaign_id": campaign_id,
                    "invitation_id": invitation_id,
                    "state": "queued",
                    "due_at": now,
                    "attempts": 0,
                    "created_at": now,
                }
                for invitation_id in session.scalars(due)
            ],
            ["invitation_id", "kind"],
        )
    session.commit()
    if queued:
        logger.info("%d reminders queued", queued)
    return queued


def remove_old_free_texts(session: Session, retention_days: int, now: datetime) -> int:
    """Free texts older than ``retention_days`` go, with the words quoted from them;
    scores and reasons stay. Commits; returns how many answers lost their text."""
    cutoff = now - timedelta(days=retention_days)
    old = sa.select(Response.id).where(Response.answered_at < cutoff, Response.comment.is_not(None))
    session.execute(
        sa.update(ResponseReason)
        .where(ResponseReason.response_id.in_(old))
        .values(evidence=[])
        .execution_options(synchronize_session=False)
    )
    removed = session.execute(
        sa.update(Response)
        .where(Response.answered_at < cutoff, Response.comment.is_not(None))
        .values(comment=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    if removed:
        logger.info("%d free texts older than %d days removed", removed, retention_days)
    return removed


@dataclass
class TickResult:
    unknown: int
    reminders: int
    free_texts_removed: int
    due: int
    webhooks_due: int = 0


def run_tick(
    session: Session,
    *,
    settings: "DispatchSettings",
    retention_days: int,
    now: datetime | None = None,
) -> TickResult:
    """The periodic work, safe to run often and by several processes at once: rows left
    in ``sending`` too long become ``unknown``, due reminders are queued, free texts past
    their retention go. ``due`` is how many deliveries are waiting to be sent (new
    reminders, retries whose time has come, rows a dead sender had claimed); commits."""
    from surveys.delivery.dispatcher import recover
    from surveys.webhooks import services as webhooks

    now = now or utcnow()
    webhooks.recover(session, now)
    return TickResult(
        unknown=recover(session, settings, now),
        reminders=queue_reminders(session, now),
        free_texts_removed=remove_old_free_texts(session, retention_days, now),
        due=pending_count(session, due_by=now),
        webhooks_due=webhooks.due_count(session, now),
    )


def normalise_test_address(text: str) -> str:
    """The address a staff member typed for a test, checked and normalised; raises
    ``CampaignError`` saying what is wrong with it."""
    address = text.strip()
    if any(ord(character) < 32 or ord(character) == 127 for character in address):
        raise CampaignError("the address contains a line break or another control character")
    if len(address) > ADDRESS_MAX_LENGTH:
        raise CampaignError(f"the address is longer than {ADDRESS_MAX_LENGTH} characters")
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise CampaignError(f"{address!r} is not an e-mail address: {error}") from None


def queue_test(
    session: Session, campaign_id: int, *, recipient: str, language: str, now: datetime
) -> Delivery:
    """A staff member's test of the campaign's e-mail, in ``language``, to ``recipient``;
    commits. Its link records nothing. A closed campaign can be tested too."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignError(f"there is no campaign {campaign_id}")
    if language not in LANGUAGES:
        raise CampaignError(f"the language must be one of {', '.join(LANGUAGES)}")
    delivery = Delivery(
        kind="test",
        campaign_id=campaign_id,
        recipient=normalise_test_address(recipient),
        language=language,
        state="queued",
        due_at=now,
        attempts=0,
        created_at=now,
    )
    session.add(delivery)
    session.commit()
    logger.info("campaign %d: test e-mail %d queued (%s)", campaign_id, delivery.id, language)
    return delivery


def recent_tests(session: Session, campaign_id: int, limit: int = 5) -> list[Delivery]:
    """The campaign's latest test e-mails, newest first, with what became of them."""
    return list(
        session.scalars(
            sa.select(Delivery)
            .where(Delivery.campaign_id == campaign_id, Delivery.kind == "test")
            .order_by(Delivery.created_at.desc(), Delivery.id.desc())
            .limit(limit)
        )
    )


def invitation_preview(
    session: Session, campaign_id: int, *, language: str, settings: MailSettings, token: str
) -> Preview:
    """The campaign's invitation as a contact speaking ``language`` gets it, addressed to
    a sample contact and carrying ``token`` (one that records nothing)."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignError(f"there is no campaign {campaign_id}")
    if language not in LANGUAGES:
        raise CampaignError(f"the language must be one of {', '.join(LANGUAGES)}")
    contact = _SampleContact(SAMPLE_ADDRESS, SAMPLE_NAMES[language], language)
    message, _ = invitation_message(campaign, contact, token, settings, message_id="preview")
    return Preview(language, message.subject, message.text, message.html)


def retry(session: Session, campaign_id: int, *, states: tuple[str, ...], now: datetime) -> int:
    """Queue again, on purpose, the campaign's invitations and reminders in ``states``
    (``failed``, ``unknown``); commits. An ``unknown`` one may have gone out already, so
    its contact may get a second copy, with the same link. A closed campaign's are left
    as they are: its links no longer work, and its list of problems keeps its reasons."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignError(f"there is no campaign {campaign_id}")
    if not set(states) <= set(RETRY_STATES):
        raise CampaignError(f"only {' and '.join(RETRY_STATES)} e-mails can be sent again")
    if not campaign.is_open(now):
        raise CampaignError(
            f"campaign {campaign_id} closed on {campaign.closes_at:%Y-%m-%d %H:%M} UTC; "
            "its links no longer work, so nothing was queued again"
        )
    count = session.execute(
        sa.update(Delivery)
        .where(
            Delivery.campaign_id == campaign_id,
            Delivery.kind != "test",
            Delivery.state.in_(states),
        )
        .values(state="queued", due_at=now, claimed_by=None, claimed_at=None, attempts=0)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    logger.info("campaign %d: %d deliveries queued again (%s)", campaign_id, count, states)
    return count


def campaign_status(
    session: Session,
    campaign_id: int,
    *,
    problems_limit: int | None = None,
    problems_offset: int = 0,
) -> CampaignStatus:
    """Invitations per delivery state, reminders sent, and every contact whose e-mail
    failed, bounced, may not have gone (unknown) or was skipped, with why: all of them,
    or ``problems_limit`` from ``problems_offset`` on (there can be thousands)."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignError(f"there is no campaign {campaign_id}")
    counts = {
        (kind, state): count
        for kind, state, count in session.execute(
            sa.select(Delivery.kind, Delivery.state, sa.func.count())
            .where(Delivery.campaign_id == campaign_id, Delivery.kind != "test")
            .group_by(Delivery.kind, Delivery.state)
        )
    }
    states = {state: counts.get(("invitation", state), 0) for state in STATES}
    listed = (
        sa.select(Contact.email, Delivery.state, Delivery.reason, Delivery.kind)
        .join(Invitation, Invitation.id == Delivery.invitation_id)
        .join(Contact, Contact.id == Invitation.contact_id)
        .where(
            Delivery.campaign_id == campaign_id,
            Delivery.state.in_(("failed", "bounced", "unknown", "skipped")),
        )
    )
    page = listed.order_by(Delivery.state, Contact.email, Delivery.kind, Delivery.id)
    if problems_limit is not None:
        page = page.limit(problems_limit).offset(problems_offset)
    problems = [
        Problem(email, state, reason, kind) for email, state, reason, kind in session.execute(page)
    ]
    if problems_limit is None:
        problem_count = len(problems)
    else:
        problem_count = session.scalar(sa.select(sa.func.count()).select_from(listed.subquery()))
    return CampaignStatus(
        campaign,
        states,
        counts.get(("reminder", "sent"), 0),
        problems,
        problem_count,
        {state: counts.get(("reminder", state), 0) for state in STATES},
    )


def pending_count(
    session: Session, campaign_id: int | None = None, *, due_by: datetime | None = None
) -> int:
    """Deliveries still to go (queued, or failed and to be tried again), optionally of one
    campaign, optionally only those due by ``due_by``."""
    query = sa.select(sa.func.count()).where(
        Delivery.state.in_(PENDING), Delivery.due_at.is_not(None)
    )
    if campaign_id is not None:
        query = query.where(Delivery.campaign_id == campaign_id)
    if due_by is not None:
        query = query.where(Delivery.due_at <= due_by)
    return session.scalar(query)


def campaign_summaries(
    session: Session,
    now: datetime | None = None,
    *,
    page: Callable[[sa.Select], sa.Select] | None = None,
) -> list[dict]:
    """Every campaign with its invitation, sent and answered counts and whether it is still
    open, newest first; or the campaigns ``page`` picks and orders from that query."""
    now = now or utcnow()
    query = (
        sa.select(
            Campaign,
            sa.func.count(Invitation.id),
            sa.func.count(Invitation.sent_at),
            sa.func.count(Response.id),
        )
        .outerjoin(Invitation, Invitation.campaign_id == Campaign.id)
        .outerjoin(Response, Response.invitation_id == Invitation.id)
        .group_by(Campaign.id)
    )
    if page is None:
        query = query.order_by(Campaign.created_at.desc(), Campaign.id.desc())
    else:
        query = page(query)
    rows = session.execute(query).all()
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
