"""Reports, aggregated in SQL: one query per table of results, never one per account."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from surveys.accounts.models import Account, Contact
from surveys.auth.access import Scope, visible_account_ids, visible_accounts
from surveys.campaigns.models import Campaign, Invitation, Response
from surveys.columns import utcnow
from surveys.reports.nps import NPSSummary, summarise


@dataclass(frozen=True)
class AccountFilter:
    """Which accounts a list shows, and in which order (None: any): a name or account id
    containing ``search``, a segment, a manager, a status, a band ("none": too few answers
    for one), sorted by one of ``ACCOUNT_SORTS``."""

    search: str | None = None
    segment: str | None = None
    manager: str | None = None
    status: str | None = None
    band: str | None = None
    sort: str = "name"
    descending: bool = False

    def apply(self, query: sa.Select) -> sa.Select:
        if self.search:
            pattern = (
                "%"
                + self.search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                + "%"
            )
            query = query.where(
                sa.or_(
                    sa.func.lower(Account.name).like(pattern, escape="\\"),
                    sa.func.lower(Account.external_id).like(pattern, escape="\\"),
                )
            )
        if self.segment:
            query = query.where(Account.segment == self.segment)
        if self.manager:
            query = query.where(Account.account_manager_email == self.manager)
        if self.status:
            query = query.where(Account.status == self.status)
        return query

    def keep(self, rows: list["AccountNPS"]) -> list["AccountNPS"]:
        """The rows in the band asked for, sorted; rows without a value (no answers)
        come last either way, by name."""
        if self.band:
            wanted = None if self.band == "none" else self.band
            rows = [row for row in rows if row.summary.band == wanted]
        key = ACCOUNT_SORTS[self.sort]
        known = sorted((row for row in rows if key(row) is not None), key=ACCOUNT_SORTS["name"])
        known.sort(key=key, reverse=self.descending)
        unknown = sorted((row for row in rows if key(row) is None), key=ACCOUNT_SORTS["name"])
        return known + unknown


BAND_ORDER = {"at_risk": 0, "positive": 1, "excellent": 2, "world_class": 3}
ACCOUNT_SORTS = {
    "name": lambda row: (row.account.name.lower(), row.account.external_id),
    "segment": lambda row: (row.account.segment or "").lower(),
    "status": lambda row: row.account.status,
    "nps": lambda row: row.summary.nps,
    "n": lambda row: row.summary.n,
    "interval": lambda row: row.summary.ci_low,
    "band": lambda row: BAND_ORDER.get(row.summary.band),
    "response_rate": lambda row: row.response_rate,
}


@dataclass(frozen=True)
class AccountNPS:
    account: Account
    summary: NPSSummary
    invited: int
    answered: int

    @property
    def response_rate(self) -> float | None:
        return round(self.answered / self.invited, 3) if self.invited else None


@dataclass(frozen=True)
class NPSReport:
    since: datetime
    overall: NPSSummary
    invited: int
    answered: int
    accounts: list[AccountNPS]

    @property
    def response_rate(self) -> float | None:
        return round(self.answered / self.invited, 3) if self.invited else None


def _latest_first() -> sa.Label:
    """1 for each contact's latest answer, 2 for the one before, ..."""
    return (
        sa.func.row_number()
        .over(
            partition_by=Invitation.contact_id,
            order_by=(Response.answered_at.desc(), Response.id.desc()),
        )
        .label("rank")
    )


def latest_nps_scores(since: datetime, until: datetime | None = None) -> sa.Subquery:
    """Each contact's latest NPS score answered in [since, until): one contact, one
    vote."""
    ranked = (
        sa.select(
            Contact.account_id,
            Invitation.contact_id,
            Response.score,
            _latest_first(),
        )
        .join(Response.invitation)
        .join(Invitation.campaign)
        .join(Invitation.contact)
        .where(
            Campaign.kind == "nps",
            Response.score.is_not(None),
            Response.answered_at >= since,
            Response.answered_at < until if until is not None else sa.true(),
        )
        .subquery()
    )
    return sa.select(ranked).where(ranked.c.rank == 1).subquery()


def account_managers(session: Session, *, scope: Scope) -> list[str]:
    """The account managers' addresses of the accounts ``scope`` sees."""
    return list(
        session.scalars(
            visible_accounts(scope)
            .with_only_columns(Account.account_manager_email)
            .where(Account.account_manager_email.is_not(None))
            .distinct()
            .order_by(Account.account_manager_email)
        )
    )


def nps_report(
    session: Session,
    *,
    scope: Scope,
    window_days: int,
    account_external_id: str | None = None,
    account_ids: Collection[int] | None = None,
    narrow: "AccountFilter | None" = None,
    now: datetime | None = None,
) -> NPSReport:
    """NPS per account and overall over the report window, with the adjusted-Wald interval,
    band and response rate (answered / sent invitations of NPS campaigns in the window),
    over the accounts ``scope`` sees (of them, only ``account_ids`` when given: a page;
    those ``narrow`` keeps, in its order). The overall figures are those of the rows."""
    since = (now or utcnow()) - timedelta(days=window_days)
    visible = visible_account_ids(scope)
    if account_ids is not None:
        visible = visible.where(Account.id.in_(list(account_ids)))
    score_counts = nps_counts(session, scope=scope, since=since, account_ids=account_ids)
    invitation_counts = dict(
        (account_id, (invited, answered))
        for account_id, invited, answered in session.execute(
            sa.select(
                Contact.account_id,
                sa.func.count(Invitation.id),
                sa.func.count(Response.id),
            )
            .select_from(Invitation)
            .join(Invitation.contact)
            .join(Invitation.campaign)
            .outerjoin(
                Response,
                sa.and_(Response.invitation_id == Invitation.id, Response.score.is_not(None)),
            )
            .where(
                Campaign.kind == "nps",
                Invitation.sent_at >= since,
                Contact.account_id.in_(visible),
            )
            .group_by(Contact.account_id)
        )
    )
    query = visible_accounts(scope).order_by(Account.name, Account.external_id)
    if account_ids is not None:
        query = query.where(Account.id.in_(list(account_ids)))
    if account_external_id is not None:
        query = query.where(Account.external_id == account_external_id)
    if narrow is not None:
        query = narrow.apply(query)
    rows = [
        AccountNPS(
            account,
            summarise(*score_counts.get(account.id, (0, 0, 0))),
            *invitation_counts.get(account.id, (0, 0)),
        )
        for account in session.scalars(query)
    ]
    if narrow is not None:
        rows = narrow.keep(rows)
    return combined(since, rows)


def combined(since: datetime, rows: list[AccountNPS]) -> NPSReport:
    """The report of these accounts: the overall NPS and response rate are theirs."""
    return NPSReport(
        since=since,
        overall=summarise(
            sum(row.summary.promoters for row in rows),
            sum(row.summary.passives for row in rows),
            sum(row.summary.detractors for row in rows),
        ),
        invited=sum(row.invited for row in rows),
        answered=sum(row.answered for row in rows),
        accounts=rows,
    )


def nps_counts(
    session: Session,
    *,
    scope: Scope,
    since: datetime,
    until: datetime | None = None,
    account_ids: Collection[int] | None = None,
) -> dict[int, tuple[int, int, int]]:
    """(promoters, passives, detractors) per account id ``scope`` sees (of them, only
    ``account_ids`` when given), from each contact's latest NPS score answered in [since,
    until); accounts without one are left out."""
    latest = latest_nps_scores(since, until)
    visible = visible_account_ids(scope)
    if account_ids is not None:
        visible = visible.where(Account.id.in_(list(account_ids)))
    return {
        account_id: (promoters, passives, detractors)
        for account_id, promoters, passives, detractors in session.execute(
            sa.select(
                latest.c.account_id,
                sa.func.sum(sa.case((latest.c.score >= 9, 1), else_=0)),
                sa.func.sum(sa.case((latest.c.score.between(7, 8), 1), else_=0)),
                sa.func.sum(sa.case((latest.c.score <= 6, 1), else_=0)),
            )
            .where(latest.c.account_id.in_(visible))
            .group_by(latest.c.account_id)
        )
    }


def response_rates_by_role(
    session: Session, *, scope: Scope, since: datetime
) -> dict[int, dict[str | None, tuple[int, int]]]:
    """(invitations sent, of them answered with a score) per account id and contact role,
    for NPS campaigns sent since ``since``: the response rate of the report, by role."""
    rates: dict[int, dict[str | None, tuple[int, int]]] = {}
    for account_id, role, invited, answered in session.execute(
        sa.select(
            Contact.account_id,
            Contact.role,
            sa.func.count(Invitation.id),
            sa.func.count(Response.id),
        )
        .select_from(Invitation)
        .join(Invitation.contact)
        .join(Invitation.campaign)
        .outerjoin(
            Response,
            sa.and_(Response.invitation_id == Invitation.id, Response.score.is_not(None)),
        )
        .where(
            Campaign.kind == "nps",
            Invitation.sent_at >= since,
            Contact.account_id.in_(visible_account_ids(scope)),
        )
        .group_by(Contact.account_id, Contact.role)
    ):
        rates.setdefault(account_id, {})[role] = (invited, answered)
    return rates


def silent_decision_makers(
    session: Session, *, scope: Scope, since: datetime
) -> dict[int, list[Contact]]:
    """Per account id ``scope`` sees, its decision makers who were sent an invitation since
    ``since`` and have answered nothing since then: the committee's silence."""
    answered = (
        sa.select(Invitation.contact_id)
        .join(Response, Response.invitation_id == Invitation.id)
        .where(Response.answered_at >= since)
    )
    invited = sa.select(Invitation.contact_id).where(Invitation.sent_at >= since)
    silent: dict[int, list[Contact]] = {}
    for contact in session.scalars(
        sa.select(Contact)
        .where(
            Contact.role == "decision_maker",
            Contact.erased_at.is_(None),
            Contact.account_id.in_(visible_account_ids(scope)),
            Contact.id.in_(invited),
            Contact.id.not_in(answered),
        )
        .order_by(Contact.account_id, Contact.name, Contact.email)
    ):
        silent.setdefault(contact.account_id, []).append(contact)
    return silent


def invitations_sent(session: Session, account: Account) -> dict[int, int]:
    """How many invitations each contact of the account was sent, by contact id."""
    return dict(
        session.execute(
            sa.select(Invitation.contact_id, sa.func.count())
            .join(Invitation.contact)
            .where(Contact.account_id == account.id, Invitation.sent_at.is_not(None))
            .group_by(Invitation.contact_id)
        ).all()
    )


def latest_answers(session: Session, account: Account) -> dict[int, Response]:
    """Each contact's latest answer to any campaign, by contact id."""
    ranked = (
        sa.select(
            Response.id,
            _latest_first(),
        )
        .join(Response.invitation)
        .join(Invitation.contact)
        .where(Contact.account_id == account.id)
        .subquery()
    )
    responses = session.scalars(
        sa.select(Response)
        .where(Response.id.in_(sa.select(ranked.c.id).where(ranked.c.rank == 1)))
        .options(sa.orm.joinedload(Response.invitation).joinedload(Invitation.campaign))
    )
    return {response.invitation.contact_id: response for response in responses}
