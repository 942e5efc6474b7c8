"""The account manager's workspace: their accounts, most at risk first, and what the
account page says about contacts who disagree.

An account is at risk for each of these reasons, in this order of weight:
1. ``at_risk``: its NPS over the report window is in the at-risk band (below 0);
2. ``nps_fall``: its NPS of the last six months fell significantly (two-sample Wald test
   at 95%) from the six months before;
3. ``overdue_follow_ups``: follow-ups nobody has acted on past their due time;
4. ``price_cover``: the cover-reason rule finds "price" to be a cover at the account;
5. ``no_recent_contact``: its manager's last contact is more than 90 days ago;
6. ``committee_silence``: a decision maker was invited in the window and never answered.
Accounts with more reasons come first; among equals, the weightier first reason, then
the lower NPS.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from surveys.accounts.models import Account, Contact
from surveys.auth.access import Scope
from surveys.followups.models import FollowUp
from surveys.followups.services import overdue, visible_follow_ups
from surveys.reasons.cover import NEGLECT_AFTER
from surveys.reasons.services import ReasonFilters, reasons_report
from surveys.reports.nps import MIN_ANSWERS_FOR_BAND, Change, compare, score_category
from surveys.reports.services import (
    AccountNPS,
    nps_counts,
    nps_report,
    response_rates_by_role,
    silent_decision_makers,
)

RISK_REASONS = (
    "at_risk",
    "nps_fall",
    "overdue_follow_ups",
    "price_cover",
    "no_recent_contact",
    "committee_silence",
)
# "The last period" of the NPS change: six months, against the six months before.
PERIOD = timedelta(days=182)


@dataclass(frozen=True)
class Risk:
    reason: str
    detail: str


@dataclass(frozen=True)
class PeriodChange:
    """NPS (-100..100) of the last period and the one before, and the test between them;
    ``change`` is None when either period has fewer than 3 answers."""

    earlier: float | None
    later: float | None
    change: Change | None

    @property
    def points(self) -> float | None:
        return None if self.change is None else round(100 * self.change.difference, 1)

    @property
    def significant_fall(self) -> bool:
        return bool(self.change and self.change.significant and self.change.difference < 0)


@dataclass(frozen=True)
class AccountRisk:
    row: AccountNPS
    change: PeriodChange
    # (invitations sent, answered) per role, over the report window
    rates_by_role: dict[str | None, tuple[int, int]]
    risks: list[Risk] = field(default_factory=list)
    overdue_follow_ups: int = 0
    open_follow_ups: int = 0

    @property
    def account(self) -> Account:
        return self.row.account


def _nps(counts: tuple[int, int, int] | None) -> float | None:
    if not counts or not sum(counts):
        return None
    promoters, _passives, detractors = counts
    return round(100 * (promoters - detractors) / sum(counts), 1)


def period_change(
    earlier: tuple[int, int, int] | None, later: tuple[int, int, int] | None
) -> PeriodChange:
    """The change between two periods' (promoters, passives, detractors); tested only when
    each period has as many answers as a band needs."""
    change = None
    if (
        earlier
        and later
        and sum(earlier) >= MIN_ANSWERS_FOR_BAND
        and sum(later) >= MIN_ANSWERS_FOR_BAND
    ):
        change = compare(earlier, later)
    return PeriodChange(_nps(earlier), _nps(later), change)


def _signed(value: float | None) -> str:
    return "–" if value is None else f"{value:+.0f}"


def _who(contact: Contact) -> str:
    return contact.name or contact.email


def my_accounts(
    session: Session, *, scope: Scope, now: datetime, window_days: int
) -> list[AccountRisk]:
    """The accounts ``scope`` sees, most at risk first, each with its NPS over the report
    window, the change since the last period, response rates by role and its risks."""
    since = now - timedelta(days=window_days)
    report = nps_report(session, scope=scope, window_days=window_days, now=now)
    later = nps_counts(session, scope=scope, since=now - PERIOD)
    earlier = nps_counts(session, scope=scope, since=now - 2 * PERIOD, until=now - PERIOD)
    rates = response_rates_by_role(session, scope=scope, since=since)
    silent = silent_decision_makers(session, scope=scope, since=since)
    follow_ups = {
        account_id: (unresolved, late)
        for account_id, unresolved, late in session.execute(
            visible_follow_ups(scope)
            .with_only_columns(
                FollowUp.account_id,
                sa.func.count(),
                sa.func.sum(sa.case((overdue(now), 1), else_=0)),
            )
            .where(FollowUp.state != "resolved")
            .group_by(FollowUp.account_id)
        )
    }
    covers = {
        row.account.id: row.verdict.evidence
        for row in reasons_report(
            session, ReasonFilters(scope=scope, since=since), now=now
        ).accounts
        if row.verdict.price_is_cover
    }

    accounts = []
    for row in report.accounts:
        account = row.account
        change = period_change(earlier.get(account.id), later.get(account.id))
        unresolved, late = follow_ups.get(account.id, (0, 0))
        risks = []
        if row.summary.band == "at_risk":
            risks.append(Risk("at_risk", f"NPS {_signed(row.summary.nps)}: in the at-risk band"))
        if change.significant_fall:
            risks.append(
                Risk(
                    "nps_fall",
                    f"NPS fell from {_signed(change.earlier)} to {_signed(change.later)} against "
                    "the six months before (significant at 95%)",
                )
            )
        if late:
            risks.append(
                Risk(
                    "overdue_follow_ups",
                    f"{late} follow-up{'' if late == 1 else 's'} past the due time with no contact",
                )
            )
        if account.id in covers:
            evidence = covers[account.id]
            detail = "price looks like a cover"
            if evidence:
                detail += f": {evidence[0].detail}"
            risks.append(Risk("price_cover", detail))
        if account.last_contacted_at is not None and now - account.last_contacted_at > (
            NEGLECT_AFTER
        ):
            risks.append(
                Risk(
                    "no_recent_contact",
                    f"last contact {account.last_contacted_at:%Y-%m-%d}, "
                    f"{(now - account.last_contacted_at).days} days ago",
                )
            )
        if account.id in silent:
            names = ", ".join(_who(contact) for contact in silent[account.id])
            many = len(silent[account.id]) > 1
            risks.append(
                Risk(
                    "committee_silence",
                    f"decision maker{'s' if many else ''} {names} "
                    f"{'were' if many else 'was'} invited and never answered",
                )
            )
        accounts.append(
            AccountRisk(
                row=row,
                change=change,
                rates_by_role=rates.get(account.id, {}),
                risks=risks,
                overdue_follow_ups=late or 0,
                open_follow_ups=unresolved,
            )
        )
    accounts.sort(key=_risk_order)
    return accounts


def _risk_order(item: AccountRisk) -> tuple:
    weightiest = min(
        (RISK_REASONS.index(risk.reason) for risk in item.risks), default=len(RISK_REASONS)
    )
    nps = item.row.summary.nps
    return (
        -len(item.risks),
        weightiest,
        nps is None,
        nps if nps is not None else 0,
        item.account.name,
        item.account.external_id,
    )


# --- Contacts who disagree ----------------------------------------------------------------


@dataclass(frozen=True)
class Voice:
    """One contact's latest NPS score, as the disagreement sentence names it."""

    name: str
    role: str | None
    score: int


def _voices(voices: list[Voice]) -> str:
    named = [
        f"{voice.name} ({voice.role.replace('_', ' ') if voice.role else 'no role'}, {voice.score})"
        for voice in voices
    ]
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


def disagreement(voices: list[Voice]) -> str | None:
    """A sentence saying where an account's contacts disagree: some recommend us
    (promoters) while others do not (detractors); None when they do not disagree. It says
    so plainly when a decision maker is among the unhappy and a user or influencer among
    the happy, which is when a renewal is decided against the people who use us."""
    promoters = [voice for voice in voices if score_category(voice.score) == "promoter"]
    detractors = [voice for voice in voices if score_category(voice.score) == "detractor"]
    if not promoters or not detractors:
        return None
    sentence = (
        f"Contacts disagree: {_voices(promoters)} "
        f"{'recommends' if len(promoters) == 1 else 'recommend'} us, while "
        f"{_voices(detractors)} {'does' if len(detractors) == 1 else 'do'} not."
    )
    if any(voice.role == "decision_maker" for voice in detractors) and any(
        voice.role != "decision_maker" for voice in promoters
    ):
        sentence += (
            " A decision maker is a detractor although the people who use us are happy: "
            "the renewal is decided by the unhappy side."
        )
    return sentence
