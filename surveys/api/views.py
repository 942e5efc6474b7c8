"""The read-only JSON API. Thin: parse the query, call the scoped service the pages call,
turn its rows into dictionaries (``surveys.reports.rows``), page them.

Signed in by bearer token only (``surveys.auth.access.enforce``); every list is one of
the pages' scoped queries, so an account manager's token sees what their pages show
and gets 404 for anything else.
"""

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound

from surveys.accounts.models import ACCOUNT_STATUSES, ROLES, Account, Contact
from surveys.accounts.services import get_account, get_contact, visible_contacts
from surveys.api import PREFIX, params
from surveys.api.openapi import openapi_document
from surveys.api.pagination import (
    after_id,
    make_page,
    moment,
    page_cursor,
    page_limit,
    row_id,
)
from surveys.auth.access import (
    BEARER,
    CX,
    PUBLIC,
    STAFF,
    access,
    blueprint_access,
    visible_accounts,
)
from surveys.auth.access import current_scope as scope
from surveys.auth.tokens import bearer_token, token_hash
from surveys.campaigns.models import Campaign, Response
from surveys.campaigns.services import campaign_summaries
from surveys.columns import utcnow
from surveys.extensions import csrf, db, limiter
from surveys.reasons.nlp.labels import LANGUAGES
from surveys.reasons.services import reasons_report, verbatims
from surveys.reports import rows
from surveys.reports.queries import answers as scoped_answers
from surveys.reports.services import nps_report
from surveys.reports.trends import nps_trend

blueprint = blueprint_access(
    Blueprint("api", __name__, url_prefix=PREFIX), STAFF, credentials=BEARER
)
csrf.exempt(blueprint)


def _rate_limit_key() -> str:
    """Per token (by its hash, before the token is looked up); per address without one."""
    token = bearer_token(request.headers.get("Authorization"))
    if token is None:
        return f"api-address:{request.remote_addr or ''}"
    return f"api-token:{token_hash(token)}"


limiter.limit(
    lambda: current_app.config["API_RATE_LIMIT"],
    key_func=_rate_limit_key,
    error_message="Too many requests with this token; wait as long as Retry-After says.",
)(blueprint)


@blueprint.get("/openapi.json")
@access(PUBLIC)
def openapi() -> ResponseReturnValue:
    return jsonify(openapi_document())


# --- Accounts and contacts --------------------------------------------------------------


@blueprint.get("/accounts")
def accounts() -> ResponseReturnValue:
    limit, cursor = page_limit(), page_cursor("accounts", row_id)
    query = visible_accounts(scope())
    segment = params.text("segment")
    if segment is not None:
        query = query.where(Account.segment == segment)
    status = params.choice("status", ACCOUNT_STATUSES)
    if status is not None:
        query = query.where(Account.status == status)
    found = db.session.scalars(after_id(query, Account.id, cursor, limit)).all()
    page = make_page("accounts", found, limit, lambda a: (a.id,), rows.account_row)
    return jsonify(page.as_response())


@blueprint.get("/accounts/<external_id>")
def account(external_id: str) -> ResponseReturnValue:
    window_days = params.window_days()
    found = get_account(db.session, external_id, scope=scope())
    if found is None:
        raise NotFound()
    report = nps_report(db.session, scope=scope(), window_days=window_days, account_ids=[found.id])
    nps = report.accounts[0]
    return jsonify(
        {
            **rows.account_row(found),
            "nps": {
                "since": rows.iso(report.since),
                **rows.nps_summary_row(nps.summary, nps.response_rate),
            },
            "contacts": len([contact for contact in found.contacts if contact.erased_at is None]),
        }
    )


@blueprint.get("/contacts")
def contacts() -> ResponseReturnValue:
    limit, cursor = page_limit(), page_cursor("contacts", row_id)
    query = visible_contacts(scope())
    account_id = params.text("account")
    if account_id is not None:
        query = query.where(
            Contact.account_id.in_(
                visible_accounts(scope())
                .with_only_columns(Account.id)
                .where(Account.external_id == account_id)
            )
        )
    role = params.choice("role", ROLES)
    if role is not None:
        query = query.where(Contact.role == role)
    language = params.choice("language", LANGUAGES)
    if language is not None:
        query = query.where(Contact.language == language)
    found = db.session.scalars(after_id(query, Contact.id, cursor, limit)).all()
    page = make_page("contacts", found, limit, lambda c: (c.id,), rows.contact_row)
    return jsonify(page.as_response())


@blueprint.get("/contacts/<id:contact_id>")
def contact(contact_id: int) -> ResponseReturnValue:
    found = get_contact(db.session, contact_id, scope=scope())
    if found is None:
        raise NotFound()
    return jsonify(rows.contact_row(found))


# --- Campaigns (CX and admins, as the campaign pages) ---------------------------------------


@blueprint.get("/campaigns")
@access(CX)
def campaigns() -> ResponseReturnValue:
    limit, cursor = page_limit(), page_cursor("campaigns", row_id)
    kind = params.choice("kind", ("nps", "exit"))

    def page(query):
        if kind is not None:
            query = query.where(Campaign.kind == kind)
        return after_id(query, Campaign.id, cursor, limit)

    found = campaign_summaries(db.session, page=page)
    result = make_page(
        "campaigns", found, limit, lambda row: (row["campaign"].id,), rows.campaign_row
    )
    return jsonify(result.as_response())


@blueprint.get("/campaigns/<id:campaign_id>")
@access(CX)
def campaign(campaign_id: int) -> ResponseReturnValue:
    found = campaign_summaries(
        db.session, page=lambda query: query.where(Campaign.id == campaign_id)
    )
    if not found:
        raise NotFound()
    return jsonify(rows.campaign_row(found[0]))


# --- Answers -------------------------------------------------------------------------------


@blueprint.get("/answers")
def answers() -> ResponseReturnValue:
    limit, cursor = page_limit(), page_cursor("answers", row_id)
    query = scoped_answers(params.answer_filters(scope()))
    found = db.session.execute(after_id(query, Response.id, cursor, limit)).all()
    page = make_page("answers", found, limit, lambda row: (row.response_id,), rows.answer_row)
    return jsonify(page.as_response())


# --- NPS -----------------------------------------------------------------------------------


@blueprint.get("/nps")
def nps() -> ResponseReturnValue:
    """The NPS of every account the token sees together."""
    window_days = params.window_days()
    report = nps_report(db.session, scope=scope(), window_days=window_days, account_ids=None)
    return jsonify(
        {
            "since": rows.iso(report.since),
            "window_days": window_days,
            "accounts": len(report.accounts),
            **rows.nps_summary_row(report.overall, report.response_rate),
        }
    )


@blueprint.get("/nps/accounts")
def nps_accounts() -> ResponseReturnValue:
    """Every page of a walk reads the window of its first page: the cursor carries when
    the walk began."""
    limit, cursor = page_limit(), page_cursor("nps-accounts", row_id, moment)
    window_days = params.window_days()
    began = cursor[1] if cursor else utcnow()
    ids = db.session.scalars(
        after_id(visible_accounts(scope()).with_only_columns(Account.id), Account.id, cursor, limit)
    ).all()
    report = nps_report(
        db.session, scope=scope(), window_days=window_days, account_ids=ids[:limit], now=began
    )
    page = make_page(
        "nps-accounts",
        sorted(report.accounts, key=lambda row: row.account.id),
        limit,
        lambda row: (row.account.id, began),
        lambda row: {**rows.account_nps_row(row), "since": rows.iso(report.since)},
        more=len(ids) > limit,
    )
    return jsonify(page.as_response())


@blueprint.get("/nps/trend")
def trend() -> ResponseReturnValue:
    period, by = params.trend_choice()
    filters = params.answer_filters(scope(), kinds=False)
    return jsonify(rows.trend_row(nps_trend(db.session, filters, period=period, by=by)))


# --- Reasons -------------------------------------------------------------------------------


@blueprint.get("/reasons")
def reasons() -> ResponseReturnValue:
    report = reasons_report(db.session, params.reason_filters(scope()))
    return jsonify({**rows.reasons_summary_row(report), "accounts": len(report.accounts)})


@blueprint.get("/reasons/accounts")
def reasons_accounts() -> ResponseReturnValue:
    """Each account's stated and found reasons and price-as-cover verdict, by account. The
    report is judged whole (the cover rule reads every answer of the period) and paged by
    account id; every page of a walk reads the period and "now" of its first page."""
    limit, cursor = page_limit(), page_cursor("reasons-accounts", row_id, moment)
    began = cursor[1] if cursor else utcnow()
    report = reasons_report(db.session, params.reason_filters(scope(), began), now=began)
    ordered = sorted(report.accounts, key=lambda row: row.account.id)
    if cursor is not None:
        ordered = [row for row in ordered if row.account.id > cursor[0]]
    page = make_page(
        "reasons-accounts",
        ordered[: limit + 1],
        limit,
        lambda row: (row.account.id, began),
        rows.account_reasons_row,
    )
    return jsonify(page.as_response())


@blueprint.get("/reasons/verbatims")
def reasons_verbatims() -> ResponseReturnValue:
    """Newest first, keyed by (answered_at, id); every page of a walk reads the default
    period of its first page."""
    limit, cursor = page_limit(), page_cursor("verbatims", moment, row_id, moment)
    reason, source = params.verbatim_choice()
    began = cursor[2] if cursor else utcnow()
    found = verbatims(
        db.session,
        params.reason_filters(scope(), began),
        reason,
        source,
        before=cursor[:2] if cursor else None,
        limit=limit + 1,
    )
    page = make_page(
        "verbatims",
        found,
        limit,
        lambda verbatim: (verbatim.answered_at, verbatim.response_id, began),
        rows.verbatim_row,
    )
    return jsonify(page.as_response())
