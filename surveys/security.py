"""What every request and response goes through: characters no database can store are
refused before any view runs, and every response carries the headers that keep a
browser from sniffing, framing, caching or leaking it."""

from urllib.parse import urlsplit

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, Map
from werkzeug.wrappers import Response

from surveys.i18n import translatable
from surveys.respond.links import URL_PREFIX as CUSTOMER_PREFIX

# PostgreSQL cannot store NUL in text, and no person types one.
NUL = "\x00"
# An e-mail's HTML part shown as a mail client shows it (the outbox, a campaign's
# preview): its own inline styles and remote images, no script, no form, framed only by
# our own pages and sandboxed there.
MAIL_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; "
    "frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox "
    "allow-top-navigation-by-user-activation"
)


class RowIdConverter(IntegerConverter):
    """``<id:campaign_id>``: a row id as the database stores it. A larger number is no
    row's (a 404), instead of an integer PostgreSQL and SQLite refuse to compare (a 500)."""

    def __init__(self, map: Map) -> None:
        super().__init__(map, min=1, max=2**31 - 1)


class ForbiddenCharacter(BadRequest):
    description = "The address or the form contains a NUL character (U+0000), which is not allowed."
    customer_message = translatable(
        "The link or the form contains a character that is not allowed. Open the link from "
        "your e-mail again."
    )

    def __init__(self, parameter: str | None = None) -> None:
        super().__init__()
        # The query parameter that holds it, for the API's answer.
        self.parameter = parameter
        if parameter is not None:
            self.description = (
                f"The query parameter {parameter[:40]!r} contains a NUL character (U+0000), "
                "which is not allowed."
            )


def is_customer_request() -> bool:
    """A request to the pages behind a personal link, also when no route matched."""
    path = request.path
    return path == CUSTOMER_PREFIX or path.startswith(CUSTOMER_PREFIX + "/")


def _refuse_nul() -> None:
    if NUL in request.path:
        raise ForbiddenCharacter()
    for key, value in request.args.items(multi=True):
        if NUL in key:
            raise ForbiddenCharacter()
        if NUL in value:
            raise ForbiddenCharacter(parameter=key)
    # The answer forms check their own fields and say which one is wrong; every other form
    # is refused here as a whole.
    if request.method == "POST" and not is_customer_request():
        if any(NUL in key or NUL in value for key, value in request.form.items(multi=True)):
            raise ForbiddenCharacter()


class StaffOnlySessions(SecureCookieSessionInterface):
    """The pages behind a personal link set no cookie, even for a signed-in staff member
    who opens one: the token is their only credential."""

    def save_session(self, app: Flask, session, response) -> None:
        if is_customer_request():
            return
        super().save_session(app, session, response)


def content_security_policy(app: Flask) -> str:
    images = "'self'"
    if app.config.get("COMPANY_LOGO_URL"):
        parts = urlsplit(app.config["COMPANY_LOGO_URL"])
        images += f" {parts.scheme}://{parts.netloc}"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src {images}; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    )


def register_converters(app: Flask) -> None:
    """Before any blueprint: its routes are compiled with the converters known then."""
    app.url_map.converters["id"] = RowIdConverter


def init_app(app: Flask) -> None:
    app.session_interface = StaffOnlySessions()
    policy = content_security_policy(app)
    static_prefix = (app.static_url_path or "/static") + "/"

    @app.before_request
    def refuse_unstorable_characters() -> None:
        _refuse_nul()

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers["X-Content-Type-Options"] = "nosniff"
        headers.setdefault("Content-Security-Policy", policy)
        if is_customer_request():
            # The personal link is in the URL: no other site may see it.
            headers["Referrer-Policy"] = "no-referrer"
        else:
            # Flask-WTF checks the Referer of HTTPS form posts against this site.
            headers.setdefault("Referrer-Policy", "same-origin")
        if not request.path.startswith(static_prefix):
            # Customer answers and names: never kept by a browser or a proxy.
            headers["Cache-Control"] = "no-store"
        return response
