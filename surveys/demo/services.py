"""Loading the demo: the accounts and contacts of ``contacts.csv``, then two past NPS
campaigns and an exit campaign with their answers, drawn from seeded random numbers so
the demo is the same every time.

The CSV goes through the ordinary import, so loading it again changes nothing. The
campaigns are added only to a database that has none yet. How an account answers follows
its health: a few champions, most accounts content, some hit by product trouble, and the
accounts their account manager forgot, which answer worse over the year and give "price"
as the reason while their words say that nobody calls; churned accounts answered worst.

The exit campaign, still open, asks the people of every churned account why they left.
Most say "price", and at most of those accounts the rest of the answer says it is a cover:
they felt unprioritised, the account manager never called, and the manager's last visit
was months before the churn. At Vinterviken Kemi (SE-1015) price is really price: a
well-looked-after account that a cheaper competitor won at renewal. Ribe Emballage
(DK-3003) was bought by a group with its own supplier.

Every answer is classified as the app classifies an answer when it is saved.
"""

import csv
import io
import logging
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from surveys.accounts.csv_import import read_contacts_csv
from surveys.accounts.models import Account, Contact
from surveys.accounts.services import ImportResult, import_contacts_csv
from surveys.auth.services import create_user, find_user
from surveys.campaigns.models import Campaign, Invitation, Response, ResponseReason
from surveys.campaigns.tokens import new_token, token_hash
from surveys.delivery.models import Delivery
from surveys.reasons.services import classify_comment

logger = logging.getLogger(__name__)

CONTACTS_CSV = Path(__file__).with_name("contacts.csv")
COMMENTS_CSV = Path(__file__).with_name("comments.csv")
EXIT_COMMENTS_CSV = Path(__file__).with_name("exit_comments.csv")
SEED = "surveys demo"
# (season, days before now that the campaign was sent)
CAMPAIGNS = (("spring", 300), ("autumn", 120))
DAYS_OPEN = 30
SEND_HOUR = 8

# Accounts that love the supplier, and accounts whose people met product trouble after spring.
CHAMPIONS = frozenset({"SE-1001", "SE-1008", "NO-2002", "UK-5001"})
PRODUCT_TROUBLE = frozenset({"SE-1018", "NO-2010", "DK-3002"})
# Why each churned account left. A churned account not named here was forgotten by its
# account manager and says "price" as a cover.
EXIT_STORIES = {"SE-1015": "price", "DK-3003": "other"}
# A well-looked-after account whose people only ever complained about price; it left for
# a cheaper competitor.
PRICE_SENSITIVE = frozenset(k for k, story in EXIT_STORIES.items() if story == "price")
# An account whose manager was last in touch this long before the newest contact date of
# the file is forgotten. Measured from the file, not from today, so the demo keeps its
# shape as the file ages.
FORGOTTEN_AFTER = timedelta(days=90)
NEGLECTED = frozenset({"forgotten", "churned"})

# health: (share of the invited who answer, mood in spring, mood in autumn)
HEALTHS = {
    "champion": (0.72, "delighted", "delighted"),
    "healthy": (0.66, "content", "content"),
    "product_trouble": (0.64, "content", "mixed"),
    "forgotten": (0.58, "mixed", "unhappy"),
    "churned": (0.52, "unhappy", "hostile"),
    "price_sensitive": (0.6, "mixed", "unhappy"),
}
# mood: weights of the scores 0 to 10
SCORE_WEIGHTS = {
    "delighted": (0, 0, 0, 0, 0, 0, 1, 2, 5, 14, 18),
    "content": (0, 0, 0, 0, 0, 1, 2, 5, 9, 10, 6),
    "mixed": (0, 0, 1, 1, 2, 3, 4, 6, 6, 4, 2),
    "unhappy": (1, 1, 2, 3, 4, 5, 5, 4, 3, 1, 1),
    "hostile": (3, 3, 4, 4, 4, 4, 3, 2, 1, 0, 0),
}
# (tone, neglected account): weights of the reason an answer is about
REASON_WEIGHTS = {
    ("promoter", False): {"attention": 4, "product": 4, "price": 1.5, "other": 0.5},
    ("promoter", True): {"attention": 2, "product": 4, "price": 1.5, "other": 0.5},
    ("passive", False): {"product": 4, "price": 3, "attention": 2, "other": 1},
    ("passive", True): {"product": 3, "price": 3, "attention": 3, "other": 1},
    ("detractor", False): {"product": 5, "price": 3, "attention": 1.5, "other": 0.5},
    ("detractor", True): {"price": 5, "attention": 4, "product": 1, "other": 1},
}
# A price-sensitive account talks about price and the product, never about attention.
PRICE_SENSITIVE_REASONS = {"price": 6, "product": 2}
SKIPS_REASON = 0.08
WRITES_COMMENT = 0.8
# Swedish and Norwegian contacts who write their comment in English anyway.
WRITES_ENGLISH = 0.15
# Hours from sending to answering: most answer within two days, a few much later.
MEAN_HOURS_TO_ANSWER = 40

# The exit campaign: sent this many days ago and open DAYS_OPEN days, so still open.
EXIT_DAYS_AGO = 20
# The share of each churned account's contacts who answered it.
EXIT_RESPONSE_RATE = 0.6
EXIT_WRITES_COMMENT = 0.85
# Swedish and Norwegian contacts who write why they left in English anyway.
EXIT_WRITES_ENGLISH = 0.1
EXIT_SKIPS_SCORE = 0.1


@dataclass(frozen=True)
class ExitStory:
    """How the people of a churned account answer the exit survey: weights of the reason
    they pick, of "we felt prioritised" 1 to 5, of how often the account manager was in
    touch in the last six months, and of how likely they are to come back, 0 to 10."""

    reasons: dict[str, float]
    felt_prioritised: tuple[float, ...]
    manager_contact: dict[str, float]
    score: tuple[float, ...]
    # the comments of a picked reason: "price" at a forgotten account reads "price|attention"
    comments: dict[str, str] = field(default_factory=dict)


EXIT_ANSWERS = {
    "cover": ExitStory(
        reasons={"price": 7, "attention": 2, "product": 1},
        felt_prioritised=(5, 4, 1, 0, 0),
        manager_contact={"never": 5, "once": 1},
        score=(3, 3, 4, 4, 3, 2, 1, 0, 0, 0, 0),
        comments={"price": "price|attention"},
    ),
    "price": ExitStory(
        reasons={"price": 5, "product": 1},
        felt_prioritised=(0, 0, 0, 3, 2),
        manager_contact={"several": 1},
        score=(0, 0, 0, 1, 2, 3, 4, 3, 2, 0, 0),
    ),
    "other": ExitStory(
        reasons={"other": 1},
        felt_prioritised=(0, 0, 2, 3, 2),
        manager_contact={"once": 1, "several": 2},
        score=(0, 0, 0, 0, 1, 2, 3, 3, 2, 1, 0),
    ),
}


@dataclass(frozen=True)
class DemoCampaign:
    name: str
    invited: int
    answered: int
    # an exit campaign: the external ids of the accounts it asks
    accounts: tuple[str, ...] = ()


@dataclass
class DemoResult:
    imported: ImportResult
    campaigns: list[DemoCampaign] = field(default_factory=list)
    users: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        counts = (self.imported.accounts, self.imported.contacts)
        return (
            bool(self.campaigns)
            or bool(self.users)
            or any(c["created"] + c["updated"] for c in counts)
        )


# One user per role; Maria Holm manages the Swedish enterprise accounts of the demo.
DEMO_USERS = (
    ("admin@leverans.example", "admin"),
    ("cx@leverans.example", "cx"),
    ("maria.holm@leverans.example", "account_manager"),
)
# A development demo's password, printed by `make run`; never use the demo in production.
DEMO_PASSWORD = "demo-password-2026"


def add_demo_users(session: Session, now: datetime) -> list[str]:
    """The demo's users, each once; returns the addresses added. Flushes."""
    added = []
    for email, role in DEMO_USERS:
        if find_user(session, email) is None:
            create_user(session, email=email, role=role, password=DEMO_PASSWORD, now=now)
            added.append(email)
    return added


def load_demo(session: Session, now: datetime) -> DemoResult:
    """Import the demo contacts and, if there is no campaign yet, add the past NPS
    campaigns and the open exit campaign with their invitations and answers, classified,
    in one transaction."""
    data = CONTACTS_CSV.read_bytes()
    result = DemoResult(import_contacts_csv(session, io.BytesIO(data), now=now))
    result.users = add_demo_users(session, now)
    session.commit()
    if session.scalar(sa.select(sa.func.count(Campaign.id))):
        return result
    external_ids = {row.account_id for row in read_contacts_csv(data).rows}
    accounts = session.scalars(
        sa.select(Account)
        .where(Account.external_id.in_(external_ids))
        .options(selectinload(Account.contacts))
        .order_by(Account.external_id)
    ).all()
    comments = _read_comments()
    healths = _healths(accounts, now)
    starts = {
        season: (now - timedelta(days=days_ago)).replace(
            hour=SEND_HOUR, minute=0, second=0, microsecond=0
        )
        for season, days_ago in CAMPAIGNS
    }
    _backdate(accounts, min(starts.values()))
    for season, start in starts.items():
        campaign = Campaign(
            kind="nps",
            name=f"NPS {season} {start.year}",
            created_at=start,
            closes_at=start + timedelta(days=DAYS_OPEN),
        )
        session.add(campaign)
        invited = answered = 0
        for account in accounts:
            if not _active_at(account, start):
                continue
            for contact in account.contacts:
                if contact.unsubscribed_at is not None and contact.unsubscribed_at <= start:
                    continue
                invitation = _sent_invitation(session, campaign, contact, start)
                invited += 1
                rng = random.Random(f"{SEED}:{season}:{account.external_id}:{contact.email}")
                response = _response(
                    rng, campaign, account, contact, healths[account.id], season, now, comments
                )
                if response is not None:
                    invitation.response = _classified(response, contact)
                    answered += 1
        result.campaigns.append(DemoCampaign(campaign.name, invited, answered))
    result.campaigns.append(_exit_campaign(session, accounts, now))
    session.commit()
    logger.info(
        "demo campaigns: %s",
        ", ".join(f"{c.invited} invited, {c.answered} answered" for c in result.campaigns),
    )
    return result


def _sent_invitation(
    session: Session, campaign: Campaign, contact: Contact, sent_at: datetime
) -> Invitation:
    """An invitation whose e-mail went out at ``sent_at``; its token was never shown to
    anyone (and, without a nonce, it gets no reminder)."""
    invitation = Invitation(
        campaign=campaign,
        contact=contact,
        token_hash=token_hash(new_token()),
        sent_at=sent_at,
        created_at=sent_at,
    )
    session.add(
        Delivery(
            kind="invitation",
            campaign=campaign,
            invitation=invitation,
            state="sent",
            attempts=1,
            attempted_at=sent_at,
            sent_at=sent_at,
            created_at=sent_at,
        )
    )
    return invitation


def _exit_campaign(session: Session, accounts: list[Account], now: datetime) -> DemoCampaign:
    """This year's exit campaign, sent to every subscribed contact of the churned accounts
    EXIT_DAYS_AGO days ago and still open; a share of each account has answered. The
    invitations went out without an e-mail, so sending the campaign again mails nobody."""
    start = (now - timedelta(days=EXIT_DAYS_AGO)).replace(
        hour=SEND_HOUR, minute=0, second=0, microsecond=0
    )
    # An account that churns after it was sent belongs to the next exit campaign.
    churned = [
        account
        for account in accounts
        if account.status == "churned"
        and account.churned_at is not None
        and account.churned_at < start
    ]
    campaign = Campaign(
        kind="exit",
        name=f"Exit survey {start.year}",
        created_at=start,
        closes_at=start + timedelta(days=DAYS_OPEN),
        accounts=churned,
    )
    session.add(campaign)
    comments = _read_exit_comments()
    invited = answered = 0
    for account in churned:
        story = EXIT_ANSWERS[EXIT_STORIES.get(account.external_id, "cover")]
        contacts = [contact for contact in account.contacts if contact.unsubscribed_at is None]
        rng = random.Random(f"{SEED}:exit:{account.external_id}")
        answering = rng.sample(contacts, round(EXIT_RESPONSE_RATE * len(contacts)))
        written: set[str] = set()  # colleagues do not write the very same words
        for contact in contacts:
            invitation = _sent_invitation(session, campaign, contact, start)
            invited += 1
            if contact in answering:
                rng = random.Random(f"{SEED}:exit:{account.external_id}:{contact.email}")
                response = _exit_response(rng, campaign, contact, story, now, comments, written)
                invitation.response = _classified(response, contact)
                answered += 1
    return DemoCampaign(
        campaign.name, invited, answered, tuple(account.external_id for account in churned)
    )


def _exit_response(
    rng: random.Random,
    campaign: Campaign,
    contact: Contact,
    story: ExitStory,
    now: datetime,
    comments: dict[tuple[str, str], list[str]],
    written: set[str],
) -> Response:
    hours = rng.expovariate(1 / MEAN_HOURS_TO_ANSWER)
    answered_at = min(campaign.created_at + timedelta(hours=0.2 + hours), now - timedelta(hours=1))
    reason = rng.choices(list(story.reasons), weights=list(story.reasons.values()))[0]
    language = contact.language
    if language != "en" and rng.random() < EXIT_WRITES_ENGLISH:
        language = "en"
    choices = comments.get((language, story.comments.get(reason, reason)), [])
    choices = [text for text in choices if text not in written] or choices
    comment = rng.choice(choices) if choices and rng.random() < EXIT_WRITES_COMMENT else None
    if comment is not None:
        written.add(comment)
    felt_prioritised = rng.choices(range(1, 6), weights=story.felt_prioritised)[0]
    manager_contact = rng.choices(
        list(story.manager_contact), weights=list(story.manager_contact.values())
    )[0]
    score = rng.choices(range(11), weights=story.score)[0]
    return Response(
        score=None if rng.random() < EXIT_SKIPS_SCORE else score,
        reason=reason,
        comment=comment,
        felt_prioritised=felt_prioritised,
        manager_contact=manager_contact,
        created_at=answered_at,
        answered_at=answered_at,
    )


def _classified(response: Response, contact: Contact) -> Response:
    """The response with what the reason classifier reads in its comment, as the app
    stores it when the answer is saved."""
    columns, reasons = classify_comment(response.comment, contact.language, response.answered_at)
    for name, value in columns.items():
        setattr(response, name, value)
    response.text_reasons = [ResponseReason(**row) for row in reasons]
    return response


def _read_exit_comments() -> dict[tuple[str, str], list[str]]:
    """The exit survey's free-text answers by (language, reasons)."""
    comments: dict[tuple[str, str], list[str]] = {}
    text = EXIT_COMMENTS_CSV.read_text(encoding="utf-8")
    for row in csv.DictReader(io.StringIO(text, newline="")):
        comments.setdefault((row["language"], row["reasons"]), []).append(row["text"])
    return comments


def _read_comments() -> dict[tuple[str, str, str], list[str]]:
    """The demo's free-text answers by (language, tone, reasons)."""
    comments: dict[tuple[str, str, str], list[str]] = {}
    text = COMMENTS_CSV.read_text(encoding="utf-8")
    for row in csv.DictReader(io.StringIO(text, newline="")):
        key = (row["language"], row["tone"], row["reasons"])
        comments.setdefault(key, []).append(row["text"])
    return comments


def _healths(accounts: list[Account], now: datetime) -> dict[int, str]:
    contacted = [a.last_contacted_at for a in accounts if a.last_contacted_at is not None]
    newest = max(contacted, default=now)
    healths = {}
    for account in accounts:
        if account.external_id in PRICE_SENSITIVE:
            health = "price_sensitive"
        elif account.status == "churned":
            health = "churned"
        elif account.last_contacted_at is None or (
            newest - account.last_contacted_at > FORGOTTEN_AFTER
        ):
            health = "forgotten"
        elif account.external_id in CHAMPIONS:
            health = "champion"
        elif account.external_id in PRODUCT_TROUBLE:
            health = "product_trouble"
        else:
            health = "healthy"
        healths[account.id] = health
    return healths


def _backdate(accounts: list[Account], first_campaign: datetime) -> None:
    """The accounts were created, and their contacts known, on the day they became
    customers (or, without that day, some time before the first campaign)."""
    for account in accounts:
        rng = random.Random(f"{SEED}:since:{account.external_id}")
        since = first_campaign - timedelta(days=rng.randint(90, 2400))
        if account.customer_since is not None:
            since = _customer_from(account)
        if account.created_at > since:
            account.created_at = since
        for contact in account.contacts:
            if contact.created_at > since:
                contact.created_at = since


def _active_at(account: Account, moment: datetime) -> bool:
    """A customer at ``moment``: already one (a company that became a customer after a
    campaign was not asked in it) and not yet gone."""
    if account.customer_since is not None and _customer_from(account) > moment:
        return False
    if account.status == "active":
        return True
    return account.churned_at is not None and account.churned_at > moment


def _customer_from(account: Account) -> datetime:
    return datetime.combine(account.customer_since, time(), UTC)


def _response(
    rng: random.Random,
    campaign: Campaign,
    account: Account,
    contact: Contact,
    health: str,
    season: str,
    now: datetime,
    comments: dict[tuple[str, str, str], list[str]],
) -> Response | None:
    response_rate, spring_mood, autumn_mood = HEALTHS[health]
    if rng.random() >= response_rate:
        return None
    deadline = min(campaign.closes_at, now)
    if account.churned_at is not None:
        deadline = min(deadline, account.churned_at)
    hours = min(rng.expovariate(1 / MEAN_HOURS_TO_ANSWER), DAYS_OPEN * 24.0)
    answered_at = campaign.created_at + timedelta(hours=0.2 + hours)
    if answered_at >= deadline:
        answered_at = deadline - timedelta(hours=1)
        if answered_at <= campaign.created_at:
            return None

    mood = spring_mood if season == "spring" else autumn_mood
    score = rng.choices(range(11), weights=SCORE_WEIGHTS[mood])[0]
    tone = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
    neglected = health in NEGLECTED
    if health == "price_sensitive":
        weights = PRICE_SENSITIVE_REASONS
    else:
        weights = REASON_WEIGHTS[(tone, neglected)]
    reason = rng.choices(list(weights), weights=list(weights.values()))[0]
    language = contact.language
    if language != "en" and rng.random() < WRITES_ENGLISH:
        language = "en"
    # At a neglected account "price" is a cover: its words say that nobody is in touch.
    cover = reason == "price" and tone == "detractor" and neglected
    choices = comments.get((language, tone, "price|attention" if cover else reason), [])
    comment = rng.choice(choices) if choices and rng.random() < WRITES_COMMENT else None
    return Response(
        score=score,
        reason=None if rng.random() < SKIPS_REASON else reason,
        comment=comment,
        created_at=answered_at,
        answered_at=answered_at,
    )
