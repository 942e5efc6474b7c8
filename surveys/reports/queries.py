"""The one scoped query of answers that every report, export and API list starts from, so
that pages, exports and the API cannot disagree or leak.

``answers(filters)`` is a ``Select`` of one row per answer, joined to its invitation,
campaign, contact and account, narrowed to the accounts the filters' scope sees and to the
filters; callers add columns, groupings and limits to it, never joins of their own to
reach other accounts.
"""

from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa

from surveys.accounts.models import Account, Contact
from surveys.auth.access import Scope, visible_account_ids
from surveys.campaigns.models import Campaign, Invitation, Response

PERIODS = ("month", "quarter")


@dataclass(frozen=True)
class AnswerFilters:
    """Which answers a report reads; every field but the scope narrows, None does not."""

    scope: Scope
    since: datetime | None = None
    until: datetime | None = None
    segment: str | None = None
    role: str | None = None
    language: str | None = None
    kind: str | None = None
    account_external_id: str | None = None
    account_manager_email: str | None = None
    campaign_id: int | None = None

    def but(self, **changes: object) -> "AnswerFilters":
        return replace(self, **changes)


# The columns a report usually needs; ``answers`` selects these unless told otherwise.
ANSWER_COLUMNS = (
    Response.id.label("response_id"),
    Response.answered_at,
    Response.score,
    Response.reason,
    Response.text_reason,
    Response.comment,
    Response.felt_prioritised,
    Response.manager_contact,
    Campaign.id.label("campaign_id"),
    Campaign.kind.label("kind"),
    Campaign.name.label("campaign_name"),
    Contact.id.label("contact_id"),
    Contact.name.label("contact_name"),
    Contact.role,
    Contact.language,
    Account.id.label("account_id"),
    Account.external_id.label("account_external_id"),
    Account.name.label("account_name"),
    Account.segment,
    Account.account_manager_email,
)


def answers(filters: AnswerFilters, *columns: sa.ColumnElement) -> sa.Select:
    """One row per answer inside ``filters`` (and their scope), with ``columns`` (default
    ``ANSWER_COLUMNS``)."""
    query = (
        sa.select(*(columns or ANSWER_COLUMNS))
        .select_from(Response)
        .join(Invitation, Invitation.id == Response.invitation_id)
        .join(Campaign, Campaign.id == Invitation.campaign_id)
        .join(Contact, Contact.id == Invitation.contact_id)
        .join(Account, Account.id == Contact.account_id)
        .where(Account.id.in_(visible_account_ids(filters.scope)))
    )
    return narrow(query, filters)


def narrow(query: sa.Select, filters: AnswerFilters) -> sa.Select:
    """``filters`` (not the scope) applied to a query that already joins the answer's
    response, campaign, contact and account."""
    if filters.since is not None:
        query = query.where(Response.answered_at >= filters.since)
    if filters.until is not None:
        query = query.where(Response.answered_at < filters.until)
    for column, value in (
        (Account.segment, filters.segment),
        (Contact.role, filters.role),
        (Contact.language, filters.language),
        (Campaign.kind, filters.kind),
        (Account.external_id, filters.account_external_id),
        (Account.account_manager_email, filters.account_manager_email),
        (Campaign.id, filters.campaign_id),
    ):
        if value is not None and value != "":
            query = query.where(column == value)
    return query


def period_of(column: sa.ColumnElement, period: str, dialect: str) -> sa.ColumnElement:
    """SQL for the month ("2026-03") or quarter ("2026-Q1") of a timestamp column, in UTC."""
    if period not in PERIODS:
        raise ValueError(f"the period must be one of {', '.join(PERIODS)}, not {period!r}")
    if dialect == "postgresql":
        utc = sa.func.timezone("UTC", column)
        pattern = "YYYY-MM" if period == "month" else 'YYYY-"Q"Q'
        return sa.func.to_char(utc, pattern)
    if period == "month":
        return sa.func.strftime("%Y-%m", column)
    month = sa.cast(sa.func.strftime("%m", column), sa.Integer)
    return sa.func.strftime("%Y", column) + "-Q" + sa.cast((month + 2) // 3, sa.String)
