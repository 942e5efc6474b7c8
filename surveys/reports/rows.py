"""Rows as plain dictionaries: the one serialization layer of the API, the commands'
``--json`` and any export. Each function takes what a service returned (a model, a row
of ``answers()``, a report's dataclass) and gives JSON-ready values: times in ISO 8601
UTC, accounts by their own id (``account_id``, the CSV's), NPS from -100 to 100.

A CSV export can write these dictionaries as they are: the list rows are flat.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from surveys.accounts.models import Account, Contact
from surveys.reports.nps import NPSSummary, score_category

if TYPE_CHECKING:
    from surveys.reasons.services import AccountReasons, ReasonsReport, Verbatim
    from surveys.reports.services import AccountNPS, NPSReport
    from surveys.reports.trends import Trend, TrendPoint, TrendSeries


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def nps_summary_row(summary: NPSSummary, response_rate: float | None = None) -> dict:
    return {
        "nps": summary.nps,
        "n": summary.n,
        "promoters": summary.promoters,
        "passives": summary.passives,
        "detractors": summary.detractors,
        "ci_low": summary.ci_low,
        "ci_high": summary.ci_high,
        "band": summary.band,
        # The interval spans more than one band: read the band as "Excellent?".
        "band_indicative": summary.band is not None and not summary.band_certain,
        "response_rate": response_rate,
    }


def account_nps_row(row: "AccountNPS") -> dict:
    return {
        "account_id": row.account.external_id,
        "name": row.account.name,
        "status": row.account.status,
        **nps_summary_row(row.summary, row.response_rate),
    }


def nps_report_row(report: "NPSReport") -> dict:
    """The whole report: ``report nps --json``."""
    return {
        "since": iso(report.since),
        "overall": nps_summary_row(report.overall, report.response_rate),
        "accounts": [account_nps_row(row) for row in report.accounts],
    }


def trend_point_row(point: "TrendPoint") -> dict:
    row = {"period": point.period, **nps_summary_row(point.summary)}
    del row["response_rate"]
    row["change"] = point.change
    row["change_significant"] = point.change_significant
    return row


def trend_series_row(series: "TrendSeries") -> dict:
    return {
        "group": series.group,
        "label": series.label,
        "points": [trend_point_row(point) for point in series.points],
    }


def trend_row(trend: "Trend") -> dict:
    """``report trend --json`` and the API's NPS over time."""
    return {
        "period": trend.period,
        "by": trend.by,
        "periods": trend.periods,
        "series": [trend_series_row(series) for series in trend.series],
    }


def account_row(account: Account) -> dict:
    return {
        "account_id": account.external_id,
        "name": account.name,
        "segment": account.segment,
        "status": account.status,
        "account_manager_email": account.account_manager_email,
        "annual_revenue": (
            float(account.annual_revenue) if account.annual_revenue is not None else None
        ),
        "churned_at": iso(account.churned_at),
        "last_contacted_at": iso(account.last_contacted_at),
        "created_at": iso(account.created_at),
    }


def contact_row(contact: Contact) -> dict:
    return {
        "contact_id": contact.id,
        "account_id": contact.account.external_id,
        "email": contact.email,
        "name": contact.name,
        "role": contact.role,
        "language": contact.language,
        "unsubscribed": contact.unsubscribed_at is not None,
        "undeliverable": contact.undeliverable_at is not None,
        "created_at": iso(contact.created_at),
    }


def campaign_row(summary: Mapping) -> dict:
    """A row of ``campaign_summaries``."""
    campaign = summary["campaign"]
    return {
        "campaign_id": campaign.id,
        "kind": campaign.kind,
        "name": campaign.name,
        "created_at": iso(campaign.created_at),
        "closes_at": iso(campaign.closes_at),
        "open": summary["open"],
        "remind_after_days": campaign.remind_after_days,
        "invited": summary["invited"],
        "sent": summary["sent"],
        "answered": summary["answered"],
    }


def answer_row(row: sa.Row) -> dict:
    """A row of ``reports.queries.answers()`` with its default columns."""
    return {
        "response_id": row.response_id,
        "answered_at": iso(row.answered_at),
        "score": row.score,
        "category": score_category(row.score) if row.score is not None else None,
        "reason": row.reason,
        "text_reason": row.text_reason,
        "comment": row.comment,
        "felt_prioritised": row.felt_prioritised,
        "manager_contact": row.manager_contact,
        "campaign_id": row.campaign_id,
        "kind": row.kind,
        "campaign_name": row.campaign_name,
        "contact_id": row.contact_id,
        "contact_name": row.contact_name,
        "role": row.role,
        "language": row.language,
        "account_id": row.account_external_id,
        "account_name": row.account_name,
        "segment": row.segment,
        "account_manager_email": row.account_manager_email,
    }


def account_reasons_row(row: "AccountReasons") -> dict:
    verdict = row.verdict
    return {
        "account_id": row.account.external_id,
        "name": row.account.name,
        "stated": row.stated,
        "found": row.found,
        "price_is_cover": verdict.price_is_cover,
        "strength": verdict.strength_json(),
        "evidence": [signal.as_json() for signal in verdict.evidence],
        "verdicts": [
            {
                "response_id": answer_verdict.answer.response_id,
                "contact": answer_verdict.answer.contact,
                "answered_at": iso(answer_verdict.answer.answered_at),
                "price_is_cover": answer_verdict.is_cover,
                "strength": answer_verdict.strength_json(),
                "signals": [signal.as_json() for signal in answer_verdict.signals],
            }
            for answer_verdict in verdict.verdicts
            if answer_verdict.is_cover is not None
        ],
    }


def reasons_summary_row(report: "ReasonsReport") -> dict:
    """The report's figures, without its accounts."""
    return {
        "since": iso(report.filters.since),
        "until": iso(report.filters.until),
        "min_signals": report.filters.min_signals,
        "stated": report.stated,
        "found": report.found,
        "price_answers": report.price_answers,
        "price_covers": report.price_covers,
        "price_cover_share": report.price_cover_share,
    }


def reasons_report_row(report: "ReasonsReport") -> dict:
    """The whole report: ``reasons report --json``."""
    row = reasons_summary_row(report)
    del row["until"]
    return {**row, "accounts": [account_reasons_row(account) for account in report.accounts]}


def verbatim_row(verbatim: "Verbatim") -> dict:
    return {
        "response_id": verbatim.response_id,
        "account_id": verbatim.account.external_id,
        "account_name": verbatim.account.name,
        "contact": verbatim.contact,
        "role": verbatim.role,
        "kind": verbatim.kind,
        "answered_at": iso(verbatim.answered_at),
        "score": verbatim.score,
        "reason": verbatim.picked_reason,
        "comment": verbatim.comment,
        "text_language": verbatim.text_language,
        "polarity": verbatim.polarity,
        "felt_prioritised": verbatim.felt_prioritised,
        "manager_contact": verbatim.manager_contact,
        "found": verbatim.found,
        "text_reasons": [
            {
                "reason": reason,
                "score": score,
                "found": found,
                "evidence": words,
                "set_aside": aside,
            }
            for reason, score, found, words, aside in verbatim.text_reasons
        ],
    }
