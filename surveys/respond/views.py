"""Public pages behind a personal link. No login and no cookies: the token is the
credential, a GET never records anything, and every kind of bad token gets the same 404."""

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as HTTPResponse

from surveys.campaigns.models import Invitation
from surveys.columns import utcnow
from surveys.extensions import db
from surveys.i18n import best_customer_language
from surveys.respond.forms import ANSWER_FORMS
from surveys.respond.services import (
    find_invitation,
    find_open_invitation,
    record_answer,
    unsubscribe,
)

blueprint = Blueprint("respond", __name__, url_prefix="/r")


def _open_invitation(token: str) -> Invitation:
    invitation = find_open_invitation(db.session, token, utcnow())
    if invitation is None:
        abort(404)
    g.locale = invitation.contact.language
    return invitation


def _answer_page(invitation: Invitation, form, status: int = 200) -> tuple[str, int]:
    return (
        render_template(
            f"respond/{invitation.campaign.kind}.html", invitation=invitation, form=form
        ),
        status,
    )


@blueprint.get("/<token>")
def answer(token: str) -> tuple[str, int]:
    invitation = _open_invitation(token)
    form = ANSWER_FORMS[invitation.campaign.kind](formdata=None, obj=invitation.response)
    # A score link from the e-mail only preselects the score; nothing is stored.
    score = request.args.get("score", "")
    if score.isdecimal() and 0 <= int(score) <= 10:
        form.score.data = int(score)
    return _answer_page(invitation, form)


@blueprint.post("/<token>")
def submit(token: str) -> tuple[str, int] | HTTPResponse:
    invitation = _open_invitation(token)
    form = ANSWER_FORMS[invitation.campaign.kind]()
    if not form.validate():
        return _answer_page(invitation, form, 400)
    record_answer(db.session, invitation, form.answers())
    return redirect(url_for(".thanks", token=token), 303)


@blueprint.get("/<token>/thanks")
def thanks(token: str) -> str | HTTPResponse:
    invitation = _open_invitation(token)
    if invitation.response is None:
        return redirect(url_for(".answer", token=token))
    return render_template("respond/thanks.html", invitation=invitation)


@blueprint.route("/<token>/unsubscribe", methods=["GET", "POST"])
def unsubscribe_page(token: str) -> str | tuple[str, int, dict]:
    # Unsubscribing works as long as the token is known, also after the campaign closed:
    # people click old e-mails' links and must still be able to leave.
    invitation = find_invitation(db.session, token)
    if invitation is None:
        abort(404)
    g.locale = invitation.contact.language
    if request.method == "GET":
        return render_template("respond/unsubscribe.html", invitation=invitation)
    unsubscribe(db.session, invitation)
    if request.form.get("List-Unsubscribe") == "One-Click":
        # RFC 8058: the mail client's one-click POST, no cookie, no CSRF token.
        return "Unsubscribed\n", 200, {"Content-Type": "text/plain; charset=utf-8"}
    return render_template("respond/unsubscribed.html", invitation=invitation)


@blueprint.errorhandler(404)
def not_found(error: Exception) -> tuple[str, int]:
    g.locale = best_customer_language()
    return render_template("respond/not_found.html"), 404
