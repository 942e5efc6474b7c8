"""Follow-ups: opened with the answer that causes them, worked through their steps,
listed, timed, and gathered in a weekly digest of the overdue ones.

Opening is part of the answer page's hot path and uses prebuilt Core statements on the
answer's connection. Everything a staff member reads or changes takes their ``Scope``
and starts from ``visible_follow_ups(scope)``, which starts from ``visible_accounts``.
Functions flush; the boundary (a view, a command, a task) commits.
"""

import functools
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from surveys.accounts.models import Account, Contact
from surveys.accounts.services import clean_note
from surveys.auth.access import Scope, visible_account_ids
from surveys.auth.models import User
from surveys.campaigns.models import Invitation, Response
from surveys.delivery.models import Delivery
from surveys.followups.models import FollowUp, FollowUpDigest, FollowUpStep
from surveys.reports.nps import score_category

logger = logging.getLogger(__name__)

DEFAULT_DUE_HOURS = 48
# The list shows at most this many follow-ups; the counts above it count them all.
LIST_LIMIT = 500
# What the list's state filter offers: one state, the two that still need work, or all.
STATE_FILTERS = ("open", "contacted", "resolved", "unresolved", "all")


class FollowUpError(Exception):
    """A step that cannot be taken; the message says why, in words for the page."""


def needs_follow_up(kind: str, score: int | None) -> bool:
    """Every exit answer, and every NPS answer of a detractor (0-6)."""
    if kind == "exit":
        return True
    return score is not None and score_category(score) == "detractor"


# --- Opening, on the answer page's hot path ---------------------------------------------

_follow_ups = FollowUp.__table__
_users = User.__table__
_accounts = Account.__table__
_contacts = Contact.__table__
_invitations = Invitation.__table__
_deliveries = Delivery.__table__


def _oldest_active(role: str) -> sa.ScalarSelect:
    users = _users.alias(f"oldest_{role}")
    return (
        sa.select(users.c.id)
        .where(users.c.role == role, users.c.active)
        .order_by(users.c.created_at, users.c.id)
        .limit(1)
        .scalar_subquery()
    )


def _assignee_statement() -> sa.Select:
    """The account of an invitation and who its follow-up goes to, with their address:
    the active user whose address is the account's account_manager_email, else the
    oldest active CX user, else the oldest active admin."""
    managers = _users.alias("managers")
    manager = (
        sa.select(managers.c.id)
        .where(managers.c.email == _accounts.c.account_manager_email, managers.c.active)
        .correlate(_accounts)
        .scalar_subquery()
    )
    chosen = (
        sa.select(
            _contacts.c.account_id,
            sa.func.coalesce(manager, _oldest_active("cx"), _oldest_active("admin")).label(
                "assignee_id"
            ),
        )
        .select_from(
            _invitations.join(_contacts, _contacts.c.id == _invitations.c.contact_id).join(
                _accounts, _accounts.c.id == _contacts.c.account_id
            )
        )
        .where(_invitations.c.id == sa.bindparam("invitation_id"))
        .subquery()
    )
    return sa.select(chosen.c.account_id, chosen.c.assignee_id, _users.c.email).select_from(
        chosen.outerjoin(_users, _users.c.id == chosen.c.assignee_id)
    )


_ASSIGNEE = _assignee_statement()
# A follow-up already open for the answer keeps its state; only its score follows a
# detractor who answers again (an answer raised to 7+ never gets here).
_UPDATE_SCORE = (
    sa.update(_follow_ups)
    .where(_follow_ups.c.response_id == sa.bindparam("answered_response_id"))
    .values(score=sa.bindparam("score"))
)
_INSERT_ALERT = sa.insert(_deliveries)


@functools.cache
def _insert_follow_up(dialect: str) -> sa.Insert:
    """INSERT ... ON CONFLICT (response_id) DO NOTHING RETURNING id: two requests storing
    the same answer at once open one follow-up."""
    insert = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}[dialect]
    return (
        insert(_follow_ups)
        .on_conflict_do_nothing(index_elements=["response_id"])
        .returning(_follow_ups.c.id)
    )


@dataclass(frozen=True)
class Opened:
    follow_up_id: int | None
    mails: int


def open_follow_up(
    connection: sa.Connection,
    *,
    response_id: int,
    invitation_id: int,
    kind: str,
    score: int | None,
    answered_before: bool,
    due_in: timedelta,
    now: datetime,
) -> "Opened":
    """The follow-up of a detractor or exit answer, and the row of its alert e-mail to the
    assignee, in the answer's transaction. An answer given again keeps its follow-up (a
    new score is noted). Returns the new follow-up's id (None when none was opened) and
    how many e-mails it queued (0 or 1)."""
    if answered_before:
        updated = connection.execute(
            _UPDATE_SCORE, {"answered_response_id": response_id, "score": score}
        ).rowcount
        if updated:
            return Opened(None, 0)
    account_id, assignee_id, assignee_email = connection.execute(
        _ASSIGNEE, {"invitation_id": invitation_id}
    ).one()
    follow_up_id = connection.execute(
        _insert_follow_up(connection.dialect.name),
        {
            "response_id": response_id,
            "account_id": account_id,
            "assignee_id": assignee_id,
            "kind": kind,
            "score": score,
            "state": "open",
            "opened_at": now,
            "due_at": now + due_in,
        },
    ).scalar()
    if follow_up_id is None or assignee_email is None:
        if follow_up_id is not None:
            logger.warning("follow-up %d opened with no active user to assign", follow_up_id)
        return Opened(follow_up_id, 0)
    connection.execute(
        _INSERT_ALERT,
        {
            "kind": "follow_up_alert",
            "recipient": assignee_email,
            "payload": {"follow_up_id": follow_up_id},
            "state": "queued",
            "due_at": now,
            "attempts": 0,
            "created_at": now,
        },
    )
    logger.info("follow-up %d opened for user %d", follow_up_id, assignee_id)
    return Opened(follow_up_id, 1)


# --- What a staff member sees -------------------------------------------------------------


def visible_follow_ups(scope: Scope) -> sa.Select:
    """The follow-ups ``scope`` may see: those of the accounts it sees. Every staff query
    of follow-ups starts here."""
    return sa.select(FollowUp).where(FollowUp.account_id.in_(visible_account_ids(scope)))


def overdue(now: datetime) -> sa.ColumnElement[bool]:
    """Open (nobody has contacted the customer) and past its due time."""
    return sa.and_(FollowUp.state == "open", FollowUp.due_at <= now)


def with_people(query: sa.Select) -> sa.Select:
    return query.options(
        selectinload(FollowUp.account),
        selectinload(FollowUp.assignee),
        selectinload(FollowUp.response)
        .selectinload(Response.invitation)
        .selectinload(Invitation.contact),
        selectinload(FollowUp.response)
        .selectinload(Response.invitation)
        .selectinload(Invitation.campaign),
    )


def get_follow_up(session: Session, follow_up_id: int, *, scope: Scope) -> FollowUp | None:
    """The follow-up with its answer, contact, account and steps, if ``scope`` sees it."""
    query = with_people(visible_follow_ups(scope).where(FollowUp.id == follow_up_id))
    return session.scalar(
        query.options(selectinload(FollowUp.steps).selectinload(FollowUpStep.user))
    )


@dataclass(frozen=True)
class FollowUpFilters:
    """Which follow-ups a list shows. ``since``/``until`` bound when they opened."""

    state: str = "open"
    overdue: bool = False
    assignee_id: int | None = None
    account_external_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class FollowUpList:
    follow_ups: list[FollowUp]
    # per state, under every filter but the state one
    counts: dict[str, int]
    overdue_count: int
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.follow_ups)


def _filtered(query: sa.Select, filters: FollowUpFilters, now: datetime | None) -> sa.Select:
    if filters.overdue and now is not None:
        query = query.where(overdue(now))
    if filters.assignee_id is not None:
        query = query.where(FollowUp.assignee_id == filters.assignee_id)
    if filters.account_external_id:
        query = query.where(
            FollowUp.account_id.in_(
                sa.select(Account.id).where(Account.external_id == filters.account_external_id)
            )
        )
    if filters.since is not None:
        query = query.where(FollowUp.opened_at >= filters.since)
    if filters.until is not None:
        query = query.where(FollowUp.opened_at < filters.until)
    return query


def _state_condition(state: str) -> sa.ColumnElement[bool]:
    if state == "unresolved":
        return FollowUp.state.in_(("open", "contacted"))
    if state == "all":
        return sa.true()
    return FollowUp.state == state


def list_follow_ups(
    session: Session, filters: FollowUpFilters, *, scope: Scope, now: datetime
) -> FollowUpList:
    """The follow-ups ``scope`` sees inside the filters, the most urgent first (due
    soonest), with the count in each state."""
    base = _filtered(visible_follow_ups(scope), filters, now)
    counts = dict.fromkeys(("open", "contacted", "resolved"), 0)
    overdue_count = 0
    ids = base.with_only_columns(FollowUp.id).subquery()
    for state, count, late in session.execute(
        sa.select(
            FollowUp.state,
            sa.func.count(),
            sa.func.sum(sa.case((overdue(now), 1), else_=0)),
        )
        .where(FollowUp.id.in_(sa.select(ids.c.id)))
        .group_by(FollowUp.state)
    ):
        counts[state] = count
        overdue_count += late or 0
    chosen = base.where(_state_condition(filters.state))
    total = session.scalar(sa.select(sa.func.count()).select_from(chosen.subquery()))
    follow_ups = session.scalars(
        with_people(chosen)
        .order_by(FollowUp.state == "resolved", FollowUp.due_at, FollowUp.id)
        .limit(LIST_LIMIT)
    ).all()
    return FollowUpList(list(follow_ups), counts, overdue_count, total or 0)


def assignees(session: Session, *, scope: Scope) -> list[User]:
    """The users who have follow-ups that ``scope`` sees, for the list's filter."""
    return list(
        session.scalars(
            sa.select(User)
            .where(
                User.id.in_(
                    visible_follow_ups(scope)
                    .with_only_columns(FollowUp.assignee_id)
                    .where(FollowUp.assignee_id.is_not(None))
                )
            )
            .order_by(User.email)
        )
    )


def follow_ups_of_account(session: Session, account: Account, *, scope: Scope) -> list[FollowUp]:
    """The account's follow-ups (if ``scope`` sees it), unresolved first, newest first."""
    return list(
        session.scalars(
            with_people(visible_follow_ups(scope).where(FollowUp.account_id == account.id))
            .order_by(FollowUp.state == "resolved", FollowUp.opened_at.desc(), FollowUp.id)
            .limit(LIST_LIMIT)
        )
    )


# --- Steps ----------------------------------------------------------------------------------

# The states each step may be taken from.
_STEP_FROM = {"contacted": ("open", "contacted"), "resolved": ("contacted",)}


def _refusal(follow_up: FollowUp, step: str) -> str:
    if follow_up.state == "resolved":
        when = follow_up.resolved_at.strftime("%Y-%m-%d %H:%M")
        if step == "resolved":
            return f"This follow-up was resolved already ({when} UTC); nothing changed."
        return (
            f"This follow-up was resolved on {when} UTC; a resolved follow-up takes no more steps."
        )
    return (
        "Mark the follow-up contacted first: it is resolved once someone has spoken with "
        "the customer."
    )


def take_step(
    session: Session,
    follow_up_id: int,
    step: str,
    *,
    scope: Scope,
    user_id: int | None,
    note: str | None,
    now: datetime,
) -> FollowUp | None:
    """Record ``step`` ("contacted" or "resolved") with its note; None when ``scope`` does
    not see the follow-up, ``FollowUpError`` when the step does not follow from its
    state, ``NoteError`` when the note cannot be stored. The change is one conditional
    UPDATE, so two people pressing the same button at once record it once. The first
    contact also counts as the account's last contact. Flushes."""
    if step not in _STEP_FROM:
        raise ValueError(f"unknown step {step!r}")
    note = clean_note(note)
    follow_up = get_follow_up(session, follow_up_id, scope=scope)
    if follow_up is None:
        return None
    values: dict[str, object] = {"state": step}
    if step == "contacted":
        values["contacted_at"] = sa.func.coalesce(FollowUp.contacted_at, now)
    else:
        values["resolved_at"] = now
    changed = session.execute(
        sa.update(FollowUp)
        .where(FollowUp.id == follow_up.id, FollowUp.state.in_(_STEP_FROM[step]))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(follow_up)
    if not changed:
        raise FollowUpError(_refusal(follow_up, step))
    session.add(
        FollowUpStep(follow_up_id=follow_up.id, step=step, at=now, user_id=user_id, note=note)
    )
    if step == "contacted":
        session.execute(
            sa.update(Account)
            .where(
                Account.id == follow_up.account_id,
                sa.or_(Account.last_contacted_at.is_(None), Account.last_contacted_at < now),
            )
            .values(last_contacted_at=now)
            .execution_options(synchronize_session=False)
        )
    session.flush()
    session.refresh(follow_up)
    return follow_up


# --- Time to first contact --------------------------------------------------------------


def _seconds_to_first_contact(dialect: str) -> sa.ColumnElement[float]:
    if dialect == "postgresql":
        return sa.extract("epoch", FollowUp.contacted_at - FollowUp.opened_at)
    # SQLite keeps the times as text; julianday reads them as days
    return (sa.func.julianday(FollowUp.contacted_at) - sa.func.julianday(FollowUp.opened_at)) * (
        86400.0
    )


def _month_opened(dialect: str) -> sa.ColumnElement[str]:
    if dialect == "postgresql":
        return sa.func.to_char(sa.func.timezone("UTC", FollowUp.opened_at), "YYYY-MM")
    return sa.func.strftime("%Y-%m", FollowUp.opened_at)


@dataclass(frozen=True)
class Median:
    hours: float
    n: int


@dataclass(frozen=True)
class FirstContactTimes:
    """Median hours from opening to first contact, per assignee and month opened, per
    assignee, per month and overall, over the follow-ups contacted so far."""

    months: list[str]
    assignees: list[tuple[int | None, str]]
    cells: dict[tuple[int | None, str], Median] = field(default_factory=dict)
    by_assignee: dict[int | None, Median] = field(default_factory=dict)
    by_month: dict[str, Median] = field(default_factory=dict)
    overall: Median | None = None


def _medians(session: Session, durations: sa.Subquery, keys: list[str]) -> dict[tuple, Median]:
    """The median of ``durations.c.seconds`` per group of ``keys``, in SQL: the middle row
    (or the mean of the two middle rows) of each group by window functions, which SQLite
    and PostgreSQL both have (SQLite has no median or percentile function)."""
    columns = [durations.c[key] for key in keys]
    ranked = sa.select(
        *columns,
        durations.c.seconds,
        sa.func.row_number()
        .over(partition_by=columns or None, order_by=durations.c.seconds)
        .label("position"),
        sa.func.count().over(partition_by=columns or None).label("size"),
    ).subquery()
    ranked_keys = [ranked.c[key] for key in keys]
    middle = sa.or_(
        ranked.c.position == (ranked.c.size + 1) // 2,
        ranked.c.position == (ranked.c.size + 2) // 2,
    )
    query = sa.select(*ranked_keys, sa.func.avg(ranked.c.seconds), sa.func.max(ranked.c.size))
    query = query.where(middle)
    if ranked_keys:
        query = query.group_by(*ranked_keys)
    return {
        tuple(row[: len(keys)]): Median(round(float(row[-2]) / 3600, 1), int(row[-1]))
        for row in session.execute(query)
        if row[-1] is not None  # no group at all: one row of NULLs
    }


def first_contact_times(
    session: Session, *, scope: Scope, since: datetime | None, until: datetime | None = None
) -> FirstContactTimes:
    """Median time from opening to first contact per assignee and per month opened (UTC),
    for the follow-ups ``scope`` sees that opened in [since, until) and were contacted."""
    dialect = session.get_bind().dialect.name
    filters = FollowUpFilters(since=since, until=until)
    durations = (
        _filtered(visible_follow_ups(scope), filters, now=None)
        .with_only_columns(
            FollowUp.assignee_id.label("assignee_id"),
            _month_opened(dialect).label("month"),
            _seconds_to_first_contact(dialect).label("seconds"),
        )
        .where(FollowUp.contacted_at.is_not(None))
        .subquery()
    )
    cells = {
        (assignee_id, month): median
        for (assignee_id, month), median in _medians(
            session, durations, ["assignee_id", "month"]
        ).items()
    }
    by_assignee = {
        key[0]: median for key, median in _medians(session, durations, ["assignee_id"]).items()
    }
    by_month = {key[0]: median for key, median in _medians(session, durations, ["month"]).items()}
    overall = _medians(session, durations, []).get(())
    emails = dict(
        session.execute(
            sa.select(User.id, User.email).where(
                User.id.in_([user_id for user_id in by_assignee if user_id is not None])
            )
        ).all()
    )
    people = sorted(
        ((assignee_id, emails.get(assignee_id, "(no user)")) for assignee_id in by_assignee),
        key=lambda person: person[1],
    )
    return FirstContactTimes(
        months=sorted(by_month),
        assignees=people,
        cells=cells,
        by_assignee=by_assignee,
        by_month=by_month,
        overall=overall,
    )


# --- The weekly digest of overdue follow-ups ----------------------------------------------


def iso_week(moment: datetime) -> str:
    year, week, _day = moment.isocalendar()
    return f"{year}-W{week:02d}"


@functools.cache
def _insert_digest(dialect: str) -> sa.Insert:
    insert = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}[dialect]
    table = FollowUpDigest.__table__
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=["user_id", "week"])
        .returning(table.c.id)
    )


@dataclass
class DigestResult:
    week: str
    queued: int = 0
    follow_ups: int = 0
    # users whose digest of this week was queued by an earlier run
    already: int = 0


def queue_digests(session: Session, *, now: datetime) -> DigestResult:
    """One digest e-mail to each active user with overdue follow-ups assigned to them,
    listing those of the accounts they still see; at most one per user and ISO week,
    however often it runs (a unique key). Flushes."""
    result = DigestResult(week=iso_week(now))
    users = session.scalars(
        sa.select(User)
        .where(
            User.active,
            User.id.in_(sa.select(FollowUp.assignee_id).where(overdue(now))),
        )
        .order_by(User.id)
    ).all()
    insert = _insert_digest(session.get_bind().dialect.name)
    for user in users:
        # as the user sees them: an account that moved to another manager is theirs now
        ids = session.scalars(
            visible_follow_ups(Scope.of(user))
            .with_only_columns(FollowUp.id)
            .where(FollowUp.assignee_id == user.id, overdue(now))
            .order_by(FollowUp.due_at, FollowUp.id)
        ).all()
        if not ids:
            continue
        digest_id = session.execute(
            insert,
            {"user_id": user.id, "week": result.week, "follow_ups": len(ids), "created_at": now},
        ).scalar()
        if digest_id is None:
            result.already += 1
            continue
        session.add(
            Delivery(
                kind="follow_up_digest",
                recipient=user.email,
                payload={"digest_id": digest_id, "follow_up_ids": list(ids)},
                state="queued",
                due_at=now,
                attempts=0,
                created_at=now,
            )
        )
        result.queued += 1
        result.follow_ups += len(ids)
    session.flush()
    logger.info(
        "follow-up digests of %s: %d queued (%d follow-ups), %d queued before",
        result.week,
        result.queued,
        result.follow_ups,
        result.already,
    )
    return result


# --- For the cover rule (signal 4) --------------------------------------------------------


@dataclass(frozen=True)
class OpenFollowUp:
    follow_up_id: int
    opened_at: datetime
    due_at: datetime


def open_detractor_follow_ups(
    session: Session, *, scope: Scope, account_ids: Iterable[int] | None = None
) -> dict[int, list[OpenFollowUp]]:
    """Per account id, the detractor follow-ups (NPS answers 0-6) still open, that is
    nobody has contacted the customer yet, oldest first; only accounts ``scope`` sees,
    and of those only ``account_ids`` when given. Accounts without any are left out."""
    query = (
        visible_follow_ups(scope)
        .with_only_columns(FollowUp.account_id, FollowUp.id, FollowUp.opened_at, FollowUp.due_at)
        .where(FollowUp.kind == "nps", FollowUp.state == "open")
        .order_by(FollowUp.account_id, FollowUp.opened_at, FollowUp.id)
    )
    if account_ids is not None:
        query = query.where(FollowUp.account_id.in_(list(account_ids)))
    found: dict[int, list[OpenFollowUp]] = {}
    for account_id, follow_up_id, opened_at, due_at in session.execute(query):
        found.setdefault(account_id, []).append(OpenFollowUp(follow_up_id, opened_at, due_at))
    return found
