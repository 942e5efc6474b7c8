"""The CX team's other questions, each answered in a few SQL aggregations over the one
scoped query of answers (``queries.answers``):

- buying-committee coverage: which roles of each account were asked and answered, whose
  decision makers never answer, and where decision makers and users disagree most;
- did we see it coming: the churned accounts whose earlier NPS answers gave the reasons
  their exit answers gave, and how long before the churn;
- reasons over time: stated and found reasons per period, and the price-as-cover share;
- response rates per campaign, role and language.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from surveys.accounts.models import ROLES, Account, Contact
from surveys.auth.access import visible_account_ids
from surveys.campaigns.models import Campaign, Invitation, Response, ResponseReason
from surveys.reasons.nlp.labels import REASONS
from surveys.reports.queries import AnswerFilters, answers, narrow, period_of

# Decision makers and users disagree when their average latest scores differ by this much.
DISAGREEMENT_POINTS = 4


# --- Buying-committee coverage -------------------------------------------------------------


@dataclass
class RoleCoverage:
    invited: int = 0
    answered: int = 0


@dataclass
class Committee:
    account: Account
    roles: dict[str, RoleCoverage]
    lowest: int | None
    highest: int | None
    decision_makers_mean: float | None
    users_mean: float | None

    @property
    def spread(self) -> int | None:
        return None if self.lowest is None else self.highest - self.lowest

    @property
    def disagreement(self) -> float | None:
        """Users' mean latest score minus decision makers' (positive: users happier)."""
        if self.decision_makers_mean is None or self.users_mean is None:
            return None
        return round(self.users_mean - self.decision_makers_mean, 1)

    @property
    def silent_decision_makers(self) -> bool:
        dm = self.roles["decision_maker"]
        return dm.invited > 0 and dm.answered == 0


def committee_coverage(session: Session, filters: AnswerFilters) -> list[Committee]:
    """Per visible account: contacts invited (an NPS e-mail sent in the filters' window)
    and answering, per role; the spread of contacts' latest scores; decision makers'
    and users' average latest score."""
    invited_query = (
        sa.select(Contact.account_id, Contact.role, sa.func.count(sa.distinct(Contact.id)))
        .select_from(Invitation)
        .join(Campaign, Campaign.id == Invitation.campaign_id)
        .join(Contact, Contact.id == Invitation.contact_id)
        .join(Account, Account.id == Contact.account_id)
        .where(
            Campaign.kind == "nps",
            Invitation.sent_at.is_not(None),
            Account.id.in_(visible_account_ids(filters.scope)),
        )
        .group_by(Contact.account_id, Contact.role)
    )
    if filters.since is not None:
        invited_query = invited_query.where(Invitation.sent_at >= filters.since)
    if filters.until is not None:
        invited_query = invited_query.where(Invitation.sent_at < filters.until)
    if filters.segment:
        invited_query = invited_query.where(Account.segment == filters.segment)
    ranked = (
        answers(
            filters.but(kind="nps"),
            Contact.account_id.label("account_id"),
            Contact.role.label("role"),
            Response.score.label("score"),
            sa.func.row_number()
            .over(
                partition_by=Invitation.contact_id,
                order_by=(Response.answered_at.desc(), Response.id.desc()),
            )
            .label("rank"),
        )
        .where(Response.score.is_not(None))
        .subquery()
    )
    latest = sa.select(ranked).where(ranked.c.rank == 1).subquery()
    answered = session.execute(
        sa.select(
            latest.c.account_id,
            latest.c.role,
            sa.func.count(),
            sa.func.min(latest.c.score),
            sa.func.max(latest.c.score),
            sa.func.avg(latest.c.score),
        ).group_by(latest.c.account_id, latest.c.role)
    ).all()
    invited = session.execute(invited_query).all()
    account_ids = {row[0] for row in invited} | {row[0] for row in answered}
    accounts = {
        account.id: account
        for account in session.scalars(
            sa.select(Account).where(Account.id.in_(account_ids or [-1]))
        )
    }
    rows: dict[int, Committee] = {
        account_id: Committee(
            accounts[account_id], {role: RoleCoverage() for role in ROLES}, None, None, None, None
        )
        for account_id in accounts
    }
    for account_id, role, count in invited:
        if role in ROLES:
            rows[account_id].roles[role].invited = count
    for account_id, role, count, lowest, highest, mean in answered:
        row = rows[account_id]
        if role in ROLES:
            row.roles[role].answered = count
        row.lowest = lowest if row.lowest is None else min(row.lowest, lowest)
        row.highest = highest if row.highest is None else max(row.highest, highest)
        if role == "decision_maker":
            row.decision_makers_mean = round(float(mean), 1)
        elif role == "user":
            row.users_mean = round(float(mean), 1)
    return sorted(rows.values(), key=lambda row: (row.account.name, row.account.external_id))


# --- Did we see it coming? -----------------------------------------------------------------


@dataclass(frozen=True)
class Warning:
    """An earlier NPS answer that gave a reason the account later left for."""

    answered_at: datetime
    contact: str
    reasons: tuple[str, ...]
    days_before: int


@dataclass
class ChurnStory:
    account: Account
    exit_reasons: tuple[str, ...]
    warnings: list[Warning] = field(default_factory=list)

    @property
    def announced(self) -> bool:
        return bool(self.warnings)

    @property
    def earliest_days(self) -> int | None:
        return max((warning.days_before for warning in self.warnings), default=None)


@dataclass
class Foresight:
    stories: list[ChurnStory]
    # reason -> (churned accounts that left for it, of which announced by it beforehand)
    by_reason: dict[str, tuple[int, int]]

    @property
    def announced_share(self) -> float | None:
        told = [story for story in self.stories if story.exit_reasons]
        if not told:
            return None
        return round(sum(story.announced for story in told) / len(told), 3)


def _reasons_of_answers(session: Session, query: sa.Select) -> dict[int, set[str]]:
    """response id -> its reasons: the one picked and those found in its words."""
    ids = query.subquery()
    reasons: dict[int, set[str]] = defaultdict(set)
    for response_id, picked in session.execute(
        sa.select(Response.id, Response.reason).where(Response.id.in_(sa.select(ids.c.response_id)))
    ):
        if picked:
            reasons[response_id].add(picked)
    for response_id, reason in session.execute(
        sa.select(ResponseReason.response_id, ResponseReason.reason).where(
            ResponseReason.response_id.in_(sa.select(ids.c.response_id)), ResponseReason.found
        )
    ):
        reasons[response_id].add(reason)
    return reasons


def foresight(session: Session, filters: AnswerFilters) -> Foresight:
    """For every churned account in scope: its exit answers' reasons, and the earlier NPS
    answers (before the churn) that gave one of them."""
    churned_filter = sa.and_(Account.status == "churned", Account.churned_at.is_not(None))
    exits = session.execute(
        answers(
            filters.but(kind="exit"),
            Response.id.label("response_id"),
            Account.id.label("account_id"),
        ).where(churned_filter)
    ).all()
    exit_reasons = _reasons_of_answers(
        session,
        answers(filters.but(kind="exit"), Response.id.label("response_id")).where(churned_filter),
    )
    reasons_by_account: dict[int, set[str]] = defaultdict(set)
    for response_id, account_id in exits:
        reasons_by_account[account_id] |= exit_reasons.get(response_id, set())
    accounts = {
        account.id: account
        for account in session.scalars(
            sa.select(Account)
            .where(Account.id.in_(visible_account_ids(filters.scope)), churned_filter)
            .where(Account.segment == filters.segment if filters.segment else sa.true())
        )
    }
    earlier_query = answers(
        filters.but(kind="nps", since=None, until=None),
        Response.id.label("response_id"),
        Account.id.label("account_id"),
        Response.answered_at,
        Contact.name.label("contact_name"),
        Contact.email.label("contact_email"),
        Account.churned_at,
    ).where(churned_filter, Response.answered_at < Account.churned_at)
    earlier = session.execute(earlier_query).all()
    earlier_reasons = _reasons_of_answers(
        session,
        answers(
            filters.but(kind="nps", since=None, until=None), Response.id.label("response_id")
        ).where(churned_filter, Response.answered_at < Account.churned_at),
    )
    stories = {
        account_id: ChurnStory(account, tuple(sorted(reasons_by_account.get(account_id, ()))))
        for account_id, account in accounts.items()
    }
    for response_id, account_id, answered_at, name, email, churned_at in earlier:
        story = stories.get(account_id)
        if story is None:
            continue
        shared = earlier_reasons.get(response_id, set()) & set(story.exit_reasons)
        if shared:
            story.warnings.append(
                Warning(
                    answered_at,
                    name or email,
                    tuple(sorted(shared)),
                    (churned_at - answered_at).days,
                )
            )
    by_reason = {}
    for reason in REASONS:
        left = [story for story in stories.values() if reason in story.exit_reasons]
        told = [story for story in left if any(reason in w.reasons for w in story.warnings)]
        by_reason[reason] = (len(left), len(told))
    ordered = sorted(stories.values(), key=lambda story: story.account.churned_at, reverse=True)
    for story in ordered:
        story.warnings.sort(key=lambda warning: warning.answered_at)
    return Foresight(ordered, by_reason)


# --- Reasons over time ---------------------------------------------------------------------


@dataclass
class ReasonsPeriod:
    period: str
    stated: dict[str, int]
    found: dict[str, int]
    price_answers: int = 0
    price_covers: int = 0

    @property
    def cover_share(self) -> float | None:
        return round(self.price_covers / self.price_answers, 3) if self.price_answers else None


def reasons_over_time(
    session: Session, filters: AnswerFilters, *, period: str
) -> list[ReasonsPeriod]:
    """Stated (picked) and found (in the words) reasons per period, and the share of price
    answers that are a cover (DESIGN.md's rule, as the reasons page applies it)."""
    from surveys.reasons.services import ReasonFilters, reasons_report

    dialect = session.get_bind().dialect.name
    label = period_of(Response.answered_at, period, dialect)
    periods: dict[str, ReasonsPeriod] = {}

    def slot(name: str) -> ReasonsPeriod:
        return periods.setdefault(
            name, ReasonsPeriod(name, dict.fromkeys(REASONS, 0), dict.fromkeys(REASONS, 0))
        )

    stated = answers(filters, label.label("period"), Response.reason, sa.func.count()).where(
        Response.reason.is_not(None)
    )
    for name, reason, count in session.execute(stated.group_by(label, Response.reason)):
        slot(name).stated[reason] = count
    found = (
        answers(filters, label.label("period"), ResponseReason.reason, sa.func.count())
        .join(ResponseReason, ResponseReason.response_id == Response.id)
        .where(ResponseReason.found)
        .group_by(label, ResponseReason.reason)
    )
    for name, reason, count in session.execute(found):
        slot(name).found[reason] = count
    bounds = session.execute(
        answers(filters, sa.func.min(Response.answered_at), sa.func.max(Response.answered_at))
    ).one()
    if bounds[0] is not None:
        # The cover rule reads colleagues and account facts: one report per period.
        for name in list(periods):
            start, end = _period_bounds(name)
            report = reasons_report(
                session,
                ReasonFilters(
                    scope=filters.scope,
                    since=start,
                    until=end,
                    segment=filters.segment,
                    role=filters.role,
                    language=filters.language,
                    kind=filters.kind,
                    account_external_id=filters.account_external_id,
                ),
            )
            periods[name].price_answers = report.price_answers
            periods[name].price_covers = report.price_covers
    return [periods[name] for name in sorted(periods)]


def _period_bounds(name: str) -> tuple[datetime, datetime]:
    from datetime import UTC

    year = int(name[:4])
    if "-Q" in name:
        quarter = int(name[-1])
        start_month, months = 3 * (quarter - 1) + 1, 3
    else:
        start_month, months = int(name[5:7]), 1
    end_month = start_month + months
    start = datetime(year, start_month, 1, tzinfo=UTC)
    end = datetime(year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1, tzinfo=UTC)
    return start, end


# --- Response rates ------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    label: str
    sent: int
    answered: int

    @property
    def rate(self) -> float | None:
        return round(self.answered / self.sent, 3) if self.sent else None


def response_rates(session: Session, filters: AnswerFilters) -> dict[str, list[Rate]]:
    """Invitations sent and answered (any answer), per campaign, role and language, within
    the scope and the filters (the window bounds when the invitation was sent)."""
    base = (
        sa.select(Invitation.id)
        .select_from(Invitation)
        .join(Campaign, Campaign.id == Invitation.campaign_id)
        .join(Contact, Contact.id == Invitation.contact_id)
        .join(Account, Account.id == Contact.account_id)
        .outerjoin(Response, Response.invitation_id == Invitation.id)
        .where(
            Invitation.sent_at.is_not(None),
            Account.id.in_(visible_account_ids(filters.scope)),
        )
    )
    base = narrow(base, filters.but(since=None, until=None))
    if filters.since is not None:
        base = base.where(Invitation.sent_at >= filters.since)
    if filters.until is not None:
        base = base.where(Invitation.sent_at < filters.until)

    def grouped(*columns: sa.ColumnElement) -> list[sa.Row]:
        return session.execute(
            base.with_only_columns(
                *columns, sa.func.count(Invitation.id), sa.func.count(Response.id)
            )
            .group_by(*columns)
            .order_by(*columns)
        ).all()

    campaigns = [
        Rate(f"{name} ({kind})", sent, answered)
        for _, name, kind, sent, answered in grouped(Campaign.id, Campaign.name, Campaign.kind)
    ]
    roles = [
        Rate((role or "no role").replace("_", " "), sent, answered)
        for role, sent, answered in grouped(Contact.role)
    ]
    languages = [
        Rate(language, sent, answered) for language, sent, answered in grouped(Contact.language)
    ]
    return {"campaign": campaigns, "role": roles, "language": languages}
