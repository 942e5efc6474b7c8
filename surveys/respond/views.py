"""Public pages behind a personal link. No login and no cookies: the token is the
credential, a GET never records anything, and every kind of bad token gets the same 404."""

import logging
from datetime import timedelta

from flask import Blueprint, abort, current_app, g, redirect, request, url_for
from werkzeug.wrappers import Response as HTTPResponse

from surveys.columns import utcnow
from surveys.delivery.queue import BrokerUnavailableError, kick, kick_webhooks
from surveys.extensions import db
from surveys.i18n import render_customer_template
from surveys.respond.forms import ANSWER_FORMS, parse_small_number
from surveys.respond.links import URL_PREFIX
from surveys.respond.services import (
    PersonalLink,
    find_link,
    find_open_link,
    record_answer,
    unsubscribe,
)

logger = logging.getLogger(__name__)

blueprint = Blueprint("respond", __name__, url_prefix=URL_PREFIX)


@blueprint.app_context_processor
def who_is_asking() -> dict[str, str | None]:
    """The supplier's name and logo on the customer pages (error pages included)."""
    return {
        "company": current_app.config.get("COMPANY_NAME"),
        "company_logo_url": current_app.config.get("COMPANY_LOGO_URL"),
    }


def _open_link(token: str) -> PersonalLink:
    link = find_open_link(db.session, token, utcnow())
    if link is None:
        abort(404)
    # before any form exists: Flask-Babel fixes the request's locale at its first use
    g.locale = link.language
    return link


def _page(name: str, link: PersonalLink, **context: object) -> str:
    return render_customer_template(f"respond/{name}.html", link.language, link=link, **context)


def _answer_page(
    link: PersonalLink,
    values: dict[str, object],
    errors: dict[str, list[str]] | None = None,
) -> tuple[str, int]:
    return _page(link.kind, link, values=values, errors=errors or {}), 400 if errors else 200


@blueprint.get("/<token>")
def answer(token: str) -> tuple[str, int]:
    link = _open_link(token)
    values = dict(link.answer or {})
    # A score link from the e-mail only preselects the score; nothing is stored.
    score = parse_small_number(request.args.get("score", ""))
    if score is not None and score <= 10:
        values["score"] = score
    return _answer_page(link, values)


@blueprint.post("/<token>")
def submit(token: str) -> tuple[str, int] | HTTPResponse:
    link = _open_link(token)
    # The form's fields only: a JSON or other body answers nothing, and gets the page back
    # saying what is missing.
    form = ANSWER_FORMS[link.kind](formdata=request.form)
    if not form.validate():
        return _answer_page(link, form.data, form.errors)
    outcome = record_answer(
        db.session,
        link,
        form.answers(),
        follow_up_due=timedelta(hours=current_app.config["FOLLOW_UP_DUE_HOURS"]),
    )
    # the follow-up's alert and the webhooks go now, after this page has answered
    try:
        if outcome.mails:
            kick(outcome.mails, in_background=True)
        if outcome.webhooks:
            kick_webhooks(in_background=True)
    except BrokerUnavailableError:
        logger.warning("alert or webhook queued; the broker refused it, the tick sends it")
    return redirect(url_for(".thanks", token=token), 303)


@blueprint.get("/<token>/thanks")
def thanks(token: str) -> str | HTTPResponse:
    link = _open_link(token)
    if link.answer is None:
        return redirect(url_for(".answer", token=token))
    return _page("thanks", link)


def _known_link(token: str) -> PersonalLink:
    """Unsubscribing works as long as the token is known, also after the campaign closed:
    people click old e-mails' links and must still be able to leave."""
    link = find_link(db.session, token)
    if link is None:
        abort(404)
    g.locale = link.language
    return link


@blueprint.get("/<token>/unsubscribe")
def unsubscribe_page(token: str) -> str:
    # GET (and the HEAD that link scanners send) only asks; nothing changes.
    return _page("unsubscribe", _known_link(token))


@blueprint.post("/<token>/unsubscribe")
def unsubscribe_confirmed(token: str) -> str | tuple[str, int, dict]:
    link = _known_link(token)
    unsubscribe(db.session, link)
    if request.form.get("List-Unsubscribe") == "One-Click":
        # RFC 8058: the mail client's one-click POST, no cookie, no CSRF token.
        return "Unsubscribed\n", 200, {"Content-Type": "text/plain; charset=utf-8"}
    return _page("unsubscribed", link)
