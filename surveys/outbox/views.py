"""The outbox page: read every e-mail the development sink received and click its links."""

import mailbox
import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

from flask import Blueprint, Response, abort, current_app, render_template

from surveys.auth.access import CX, blueprint_access
from surveys.security import MAIL_POLICY

blueprint = blueprint_access(Blueprint("outbox", __name__, url_prefix="/outbox"), CX)

LINK = re.compile(r"https?://[^\s<>\"')]+")


def _box() -> mailbox.Maildir:
    return mailbox.Maildir(current_app.config["OUTBOX_DIR"], create=True)


def _parse(raw: bytes) -> EmailMessage:
    return message_from_bytes(raw, policy=policy.default)


def _summary(key: str, message: EmailMessage) -> dict:
    return {
        "key": key,
        "to": message["To"],
        "subject": message["Subject"],
        "date": parsedate_to_datetime(message["Date"]) if message["Date"] else None,
        "language": message["Content-Language"],
    }


@blueprint.get("/")
def index() -> str:
    box = _box()
    messages = [_summary(key, _parse(box.get_bytes(key))) for key in box.iterkeys()]
    messages.sort(key=lambda item: (item["date"] is not None, item["date"]), reverse=True)
    return render_template("outbox/index.html", messages=messages)


def _message(key: str) -> EmailMessage:
    try:
        return _parse(_box().get_bytes(key))
    except KeyError:
        abort(404)


@blueprint.get("/<key>/html")
def html(key: str) -> Response:
    part = _message(key).get_body(preferencelist=("html",))
    if part is None:
        abort(404)
    # <base>: a clicked link opens in the outbox's window, not inside the frame
    page = '<base target="_top">' + part.get_content()
    return Response(
        page,
        content_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": MAIL_POLICY},
    )


@blueprint.get("/<key>")
def show(key: str) -> str:
    message = _message(key)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    text = text_part.get_content() if text_part else ""
    return render_template(
        "outbox/show.html",
        message=_summary(key, message),
        headers=list(message.items()),
        text=text,
        links=list(dict.fromkeys(LINK.findall(text))),
        has_html=html_part is not None,
    )
