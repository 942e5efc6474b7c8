"""Reasons in stored answers: classify them when saved or all again, and report stated
against found reasons with the price-as-cover verdicts."""

import hashlib
import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

import sqlalchemy as sa
from sqlalchemy.orm import Session

from surveys.accounts.models import Account, Contact
from surveys.auth.access import Scope, visible_account_ids
from surveys.campaigns.models import Campaign, Invitation, Response, ResponseReason
from surveys.columns import utcnow
from surveys.reasons.cover import (
    COLLEAGUE_WINDOW,
    AccountFacts,
    AccountVerdict,
    Answer,
    judge_account,
)
from surveys.reasons.nlp.labels import REASONS
from surveys.reasons.nlp.model import MODEL_PATH, get_classifier

logger = logging.getLogger(__name__)

RECLASSIFY_BATCH = 500


@cache
def classifier_version() -> str:
    """The model file's SHA-256, kept with each classified answer."""
    return hashlib.sha256(MODEL_PATH.read_bytes()).hexdigest()


def classify_comment(
    comment: str | None, language_hint: str | None, now: datetime
) -> tuple[dict[str, object], list[dict[str, object]]]:
    """What the classifier reads in a comment, as the response's columns and its
    response_reasons rows (without response_id): per reason its score, whether it was
    found, the words that decided it and the words that named it only to set it aside. No
    comment: no rows."""
    columns: dict[str, object] = {
        "text_language": None,
        "text_reason": None,
        "polarity": None,
        "subjectivity": None,
        "classified_at": now,
        "classifier_version": classifier_version(),
    }
    if not comment:
        return columns, []
    classifier = get_classifier()
    result = classifier.classify(comment, language_hint)
    columns.update(
        text_language=result.language,
        text_reason=result.top_reason,
        polarity=result.polarity,
        subjectivity=result.subjectivity,
    )
    rows = [
        {
            "reason": reason,
            "score": result.scores[reason],
            "found": reason in result.reasons,
            "evidence": result.evidence.get(reason, []),
            "set_aside": result.set_aside_words(reason),
        }
        for reason in REASONS
    ]
    return columns, rows


def store_reasons(
    connection: sa.Connection, response_id: int, rows: list[dict], *, replace: bool = True
) -> None:
    """Store a response's response_reasons rows, replacing any it had (``replace=False``
    for a response just inserted). The caller commits."""
    table = ResponseReason.__table__
    if replace:
        connection.execute(sa.delete(table).where(table.c.response_id == response_id))
    if rows:
        connection.execute(sa.insert(table), [{**row, "response_id": response_id} for row in rows])


def count_answers(session: Session) -> int:
    return session.scalar(sa.select(sa.func.count(Response.id)))


def reclassify_all(
    session: Session,
    progress: Callable[[int], None] = lambda done: None,
    now: datetime | None = None,
) -> int:
    """Classify every stored answer again (after a model change), in batches, each batch
    committed; ``progress`` hears how many answers each batch did. Returns the count."""
    now = now or utcnow()
    rows = session.execute(
        sa.select(Response.id, Response.comment, Contact.language)
        .join(Response.invitation)
        .join(Invitation.contact)
        .order_by(Response.id)
    ).all()
    responses = Response.__table__
    for start in range(0, len(rows), RECLASSIFY_BATCH):
        batch = rows[start : start + RECLASSIFY_BATCH]
        connection = session.connection()
        for response_id, comment, language in batch:
            columns, reasons = classify_comment(comment, language, now)
            connection.execute(
                sa.update(responses).where(responses.c.id == response_id).values(**columns)
            )
            store_reasons(connection, response_id, reasons)
        session.commit()
        progress(len(batch))
    logger.info("reclassified %d answers", len(rows))
    return len(rows)


@dataclass(frozen=True)
class ReasonFilters:
    """Which answers a reasons report reads: always those of the accounts ``scope`` sees
    (so no report can forget it). ``since``/``until`` bound answered_at, and
    ``min_signals`` is how many independent signals a price-as-cover verdict needs to count
    (1, DESIGN.md's rule; 2 shows only verdicts that do not rest on one source)."""

    scope: Scope
    since: datetime | None = None
    until: datetime | None = None
    segment: str | None = None
    role: str | None = None
    language: str | None = None
    kind: str | None = None
    account_external_id: str | None = None
    min_signals: int = 1


@dataclass(frozen=True)
class AccountReasons:
    account: Account
    stated: list[str]
    found: list[str]
    verdict: AccountVerdict

    def as_json(self) -> dict:
        return {
            "account_id": self.account.external_id,
            "name": self.account.name,
            "stated": self.stated,
            "found": self.found,
            "price_is_cover": self.verdict.price_is_cover,
            "strength": self.verdict.strength_json(),
            "evidence": [signal.as_json() for signal in self.verdict.evidence],
            "verdicts": [
                {
                    "response_id": verdict.answer.response_id,
                    "contact": verdict.answer.contact,
                    "answered_at": verdict.answer.answered_at.isoformat(),
                    "price_is_cover": verdict.is_cover,
                    "strength": verdict.strength_json(),
                    "signals": [signal.as_json() for signal in verdict.signals],
                }
                for verdict in self.verdict.verdicts
                if verdict.is_cover is not None
            ],
        }


@dataclass(frozen=True)
class ReasonsReport:
    filters: ReasonFilters
    stated: dict[str, int]
    found: dict[str, int]
    price_answers: int
    price_covers: int
    accounts: list[AccountReasons] = field(default_factory=list)

    @property
    def price_cover_share(self) -> float | None:
        return round(self.price_covers / self.price_answers, 3) if self.price_answers else None

    def as_json(self) -> dict:
        return {
            "since": self.filters.since.isoformat() if self.filters.since else None,
            "min_signals": self.filters.min_signals,
            "stated": self.stated,
            "found": self.found,
            "price_answers": self.price_answers,
            "price_covers": self.price_covers,
            "price_cover_share": self.price_cover_share,
            "accounts": [account.as_json() for account in self.accounts],
        }


def _answers_query(filters: ReasonFilters) -> sa.Select:
    """Every answer inside the filters, with what the cover rule reads."""
    attention = sa.orm.aliased(ResponseReason)
    query = (
        sa.select(
            Response.id,
            Contact.id,
            Contact.name,
            Contact.email,
            Account.id,
            Response.answered_at,
            Response.reason,
            Response.text_reason,
            sa.func.coalesce(attention.found, False),
            attention.evidence,
            Response.felt_prioritised,
            Response.manager_contact,
            Campaign.kind,
            Response.score,
        )
        .join(Response.invitation)
        .join(Invitation.campaign)
        .join(Invitation.contact)
        .join(Contact.account)
        .outerjoin(
            attention,
            sa.and_(attention.response_id == Response.id, attention.reason == "attention"),
        )
    )
    return _filtered(query, filters)


def _filtered(query: sa.Select, filters: ReasonFilters) -> sa.Select:
    query = query.where(Account.id.in_(visible_account_ids(filters.scope)))
    if filters.since is not None:
        query = query.where(Response.answered_at >= filters.since)
    if filters.until is not None:
        query = query.where(Response.answered_at < filters.until)
    if filters.segment:
        query = query.where(Account.segment == filters.segment)
    if filters.role:
        query = query.where(Contact.role == filters.role)
    if filters.language:
        query = query.where(Contact.language == filters.language)
    if filters.kind:
        query = query.where(Campaign.kind == filters.kind)
    if filters.account_external_id:
        query = query.where(Account.external_id == filters.account_external_id)
    return query


def _answer(row: sa.Row) -> tuple[int, Answer]:
    (
        response_id,
        contact_id,
        name,
        email,
        account_id,
        answered_at,
        picked,
        text_reason,
        text_attention,
        attention_words,
        felt_prioritised,
        manager_contact,
        kind,
        score,
    ) = row
    return account_id, Answer(
        response_id=response_id,
        contact_id=contact_id,
        contact=name or email,
        answered_at=answered_at,
        picked_reason=picked,
        text_reason=text_reason,
        text_attention=bool(text_attention),
        attention_words=tuple(attention_words or ()) if text_attention else (),
        felt_prioritised=felt_prioritised,
        manager_contact=manager_contact,
        kind=kind,
        score=score,
    )


def reasons_report(
    session: Session, filters: ReasonFilters, now: datetime | None = None
) -> ReasonsReport:
    """Stated reasons (picked) against found reasons (the classifier's), the share of
    price answers that are covers, and each account's verdict with its evidence and
    strength. With ``filters.min_signals`` above 1, a cover counts only on that many
    independent signals, and only accounts with such a verdict are listed."""
    now = now or utcnow()
    base = _filtered(
        sa.select(Response.id)
        .join(Response.invitation)
        .join(Invitation.campaign)
        .join(Invitation.contact)
        .join(Contact.account),
        filters,
    ).subquery()
    stated = dict.fromkeys(REASONS, 0)
    for reason, count in session.execute(
        sa.select(Response.reason, sa.func.count())
        .where(Response.id.in_(sa.select(base.c.id)), Response.reason.is_not(None))
        .group_by(Response.reason)
    ):
        stated[reason] = count
    found = dict.fromkeys(REASONS, 0)
    for reason, count in session.execute(
        sa.select(ResponseReason.reason, sa.func.count())
        .where(ResponseReason.response_id.in_(sa.select(base.c.id)), ResponseReason.found)
        .group_by(ResponseReason.reason)
    ):
        found[reason] = count

    answers: dict[int, list[Answer]] = defaultdict(list)
    for row in session.execute(_answers_query(filters).order_by(Response.answered_at)):
        account_id, answer = _answer(row)
        answers[account_id].append(answer)
    # Colleagues' attention counts within 12 months of an answer, also outside the filters'
    # period; the other filters (segment, role, ...) do not narrow who a colleague is.
    wider = ReasonFilters(
        scope=filters.scope,
        since=filters.since - COLLEAGUE_WINDOW if filters.since else None,
        until=filters.until + COLLEAGUE_WINDOW if filters.until else None,
    )
    colleagues: dict[int, list[Answer]] = defaultdict(list)
    for row in session.execute(
        _answers_query(wider).where(Contact.account_id.in_(list(answers) or [-1]))
    ):
        account_id, answer = _answer(row)
        colleagues[account_id].append(answer)

    accounts = session.scalars(
        sa.select(Account).where(Account.id.in_(list(answers) or [-1])).order_by(Account.name)
    ).all()
    stated_by_account = _reasons_by_account(
        session,
        sa.select(Contact.account_id, Response.reason, sa.func.count())
        .join(Response.invitation)
        .join(Invitation.contact)
        .where(Response.id.in_(sa.select(base.c.id)), Response.reason.is_not(None))
        .group_by(Contact.account_id, Response.reason),
    )
    found_by_account = _reasons_by_account(
        session,
        sa.select(Contact.account_id, ResponseReason.reason, sa.func.count())
        .join(Response, Response.id == ResponseReason.response_id)
        .join(Response.invitation)
        .join(Invitation.contact)
        .where(ResponseReason.response_id.in_(sa.select(base.c.id)), ResponseReason.found)
        .group_by(Contact.account_id, ResponseReason.reason),
    )
    from surveys.followups.services import open_detractor_follow_ups

    # Signal 4's second half: detractor follow-ups nobody has acted on.
    left_open = open_detractor_follow_ups(
        session, scope=filters.scope, account_ids=[account.id for account in accounts]
    )
    rows = []
    price_answers = price_covers = 0
    for account in accounts:
        verdict = judge_account(
            answers[account.id],
            AccountFacts(
                last_contacted_at=account.last_contacted_at,
                churned_at=account.churned_at,
                open_follow_ups=[item.opened_at for item in left_open.get(account.id, [])],
            ),
            colleagues[account.id],
            now,
        )
        for answer_verdict in verdict.verdicts:
            if answer_verdict.is_cover is not None:
                price_answers += 1
                price_covers += bool(
                    answer_verdict.is_cover and answer_verdict.strength >= filters.min_signals
                )
        if filters.min_signals > 1 and verdict.strength < filters.min_signals:
            continue  # the page shows only verdicts on enough independent signals
        rows.append(
            AccountReasons(
                account,
                stated=stated_by_account.get(account.id, []),
                found=found_by_account.get(account.id, []),
                verdict=verdict,
            )
        )
    rows.sort(key=lambda row: (row.verdict.price_is_cover is not True, row.account.name))
    return ReasonsReport(filters, stated, found, price_answers, price_covers, rows)


def _reasons_by_account(session: Session, query: sa.Select) -> dict[int, list[str]]:
    """(account id, reason, count) rows -> each account's reasons, most frequent first."""
    counts: dict[int, Counter] = defaultdict(Counter)
    for account_id, reason, count in session.execute(query):
        counts[account_id][reason] = count
    return {
        account_id: [reason for reason, _count in sorted(c.items(), key=lambda i: (-i[1], i[0]))]
        for account_id, c in counts.items()
    }


@dataclass(frozen=True)
class Verbatim:
    """One answer as the drill-down shows it."""

    response_id: int
    account: Account
    contact: str
    role: str | None
    kind: str
    answered_at: datetime
    score: int | None
    picked_reason: str | None
    comment: str | None
    text_language: str | None
    polarity: float | None
    felt_prioritised: int | None
    manager_contact: str | None
    # (reason, score, found, evidence words, set-aside words), highest score first
    text_reasons: list[tuple[str, float, bool, list[str], list[str]]]

    @property
    def found(self) -> list[str]:
        return [reason for reason, _score, found, _words, _aside in self.text_reasons if found]

    @property
    def evidence_words(self) -> list[str]:
        return [word for _r, _s, found, words, _a in self.text_reasons if found for word in words]

    @property
    def set_aside(self) -> list[tuple[str, list[str]]]:
        """The reasons the comment named without complaining of them, with their words."""
        return [(reason, aside) for reason, _s, _f, _w, aside in self.text_reasons if aside]

    @property
    def set_aside_words(self) -> list[str]:
        return [word for _reason, words in self.set_aside for word in words]


VERBATIMS_SHOWN = 300


def verbatims(
    session: Session,
    filters: ReasonFilters,
    reason: str | None = None,
    source: str = "found",
) -> list[Verbatim]:
    """The answers inside the filters, newest first; with ``reason``, only those that
    picked it (``source="stated"``) or whose words carry it (``source="found"``)."""
    query = _filtered(
        sa.select(Response, Contact, Account, Campaign.kind)
        .join(Response.invitation)
        .join(Invitation.campaign)
        .join(Invitation.contact)
        .join(Contact.account),
        filters,
    )
    if reason is not None and source == "stated":
        query = query.where(Response.reason == reason)
    elif reason is not None:
        query = query.where(
            sa.exists().where(
                ResponseReason.response_id == Response.id,
                ResponseReason.reason == reason,
                ResponseReason.found,
            )
        )
    rows = session.execute(query.order_by(Response.answered_at.desc()).limit(VERBATIMS_SHOWN)).all()
    reasons: dict[int, list] = defaultdict(list)
    for row in session.scalars(
        sa.select(ResponseReason)
        .where(ResponseReason.response_id.in_([response.id for response, *_ in rows] or [-1]))
        .order_by(ResponseReason.score.desc())
    ):
        reasons[row.response_id].append(
            (row.reason, row.score, row.found, list(row.evidence), list(row.set_aside))
        )
    return [
        Verbatim(
            response_id=response.id,
            account=account,
            contact=contact.name or contact.email,
            role=contact.role,
            kind=kind,
            answered_at=response.answered_at,
            score=response.score,
            picked_reason=response.reason,
            comment=response.comment,
            text_language=response.text_language,
            polarity=response.polarity,
            felt_prioritised=response.felt_prioritised,
            manager_contact=response.manager_contact,
            text_reasons=reasons[response.id],
        )
        for response, contact, account, kind in rows
    ]


def segments(session: Session, *, scope: Scope) -> list[str]:
    return list(
        session.scalars(
            sa.select(Account.segment)
            .where(Account.segment.is_not(None), Account.id.in_(visible_account_ids(scope)))
            .distinct()
            .order_by(Account.segment)
        )
    )
