"""Error pages. A visitor of a personal link gets the customer's page in the contact's
language (or their browser's), never the staff page with its navigation, and nobody is
ever shown a traceback."""

import logging

from flask import Flask, g, render_template, request
from flask.globals import request_ctx
from werkzeug.exceptions import HTTPException, InternalServerError

from surveys.api.errors import is_api_request, json_error
from surveys.extensions import db
from surveys.i18n import best_customer_language, render_customer_template, translatable
from surveys.security import is_customer_request

logger = logging.getLogger(__name__)

# What a customer reads for each status; anything else reads as a bad request.
CUSTOMER_MESSAGES = {
    400: translatable("Your request could not be read. Open the link from your e-mail again."),
    405: translatable("This page cannot be used like that. Open the link from your e-mail again."),
    413: translatable("What you sent is too large."),
    500: translatable(
        "Something went wrong on our side. Your answer may not have been saved; please try "
        "again in a few minutes."
    ),
}


def _customer_language() -> str:
    """The contact's language when the URL holds a known token, else the browser's. A 404
    always follows the browser, so it never tells a known token from an unknown one."""
    language = g.get("locale")
    if language:
        return language
    token = (request.view_args or {}).get("token")
    if token is None:  # no route matched: /r/<token>/...
        parts = request.path.split("/")
        token = parts[2] if len(parts) > 2 else None
    if token:
        from surveys.respond.services import find_link

        try:
            link = find_link(db.session, token)
        except Exception:  # the database may be what failed
            logger.warning("no language for an error page: the token could not be looked up")
            db.session.rollback()
            link = None
        if link is not None:
            return link.language
    return best_customer_language()


def customer_error_page(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    if code == 404:
        return render_customer_template("respond/not_found.html", best_customer_language()), 404
    message = getattr(error, "customer_message", None) or CUSTOMER_MESSAGES.get(
        code, CUSTOMER_MESSAGES[400]
    )
    page = render_customer_template(
        "respond/error.html", _customer_language(), code=code, message=message
    )
    return page, code


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int] | tuple[str, int, dict]:
        if request_ctx.url_adapter is None:
            # The request could not be routed at all (e.g. a Host this site does not
            # answer to): no page can link anything, so the answer is plain text.
            text = f"{error.code} {error.name}: {error.description}\n"
            return text, error.code or 400, {"Content-Type": "text/plain; charset=utf-8"}
        if is_customer_request():
            return customer_error_page(error)
        if is_api_request():
            return json_error(error)
        return render_template("errors/error.html", error=error), error.code or 500

    @app.errorhandler(InternalServerError)
    def server_error(error: InternalServerError) -> tuple[str, int]:
        # The traceback goes to the log, never to the page.
        db.session.rollback()
        return http_error(error)
