"""Who may reach which page, decided in one place for every request.

Every endpoint has an access level, given by its view (``@access(CX)``) or its
blueprint (``blueprint_access(blueprint, STAFF)``). A request to an endpoint with no level
is refused (404) and logged, so a new page is closed until someone classifies it, and
``tests/test_auth.py`` walks the URL map to hold every endpoint to its level.

- PUBLIC: anyone (the pages behind a personal link, logging in, static files);
- STAFF: any signed-in user; what they see is narrowed by their ``Scope``;
- CX: CX and admins (campaigns, imports, every account's data);
- ADMIN: admins only (users, the audit log), with two-factor sign-in where
  REQUIRE_ADMIN_2FA is on.

A signed-in user whose role does not reach a page gets 404, as for another account's
page: nobody learns what exists beyond their reach.

A blueprint is signed into by a session (the pages) or by a bearer token (the JSON API:
``blueprint_access(api, STAFF, credentials=BEARER)``). A bearer blueprint never reads the
session cookie and never sends anyone to the sign-in page: without a live token it
answers 401 with ``WWW-Authenticate: Bearer``; with one, the token's user is held to the
same levels and scope as on the pages, as that user is at this request.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import sqlalchemy as sa
from flask import Blueprint, Flask, abort, current_app, flash, g, redirect, request, url_for
from flask_login import current_user
from werkzeug.exceptions import Unauthorized

from surveys.accounts.models import Account
from surveys.auth.models import USER_ROLES

logger = logging.getLogger(__name__)

PUBLIC, STAFF, CX, ADMIN = "public", "staff", "cx", "admin"
LEVELS = (PUBLIC, STAFF, CX, ADMIN)
# How a blueprint's requests say who they are: the session cookie, or a bearer token.
SESSION, BEARER = "session", "bearer"
CREDENTIALS = (SESSION, BEARER)
ROLES_OF_LEVEL: dict[str, tuple[str, ...]] = {
    STAFF: USER_ROLES,
    CX: ("admin", "cx"),
    ADMIN: ("admin",),
}
# Pages a signed-in admin without two-factor sign-in may still use: to enrol, to leave.
ENROLMENT_ENDPOINTS = frozenset({"auth.two_factor", "auth.logout", "static"})

View = TypeVar("View", bound=Callable)


def access(level: str) -> Callable[[View], View]:
    """Give one view its access level."""
    if level not in LEVELS:
        raise ValueError(f"unknown access level {level!r}")

    def mark(view: View) -> View:
        view.access_level = level
        return view

    return mark


def blueprint_access(blueprint: Blueprint, level: str, *, credentials: str = SESSION) -> Blueprint:
    """Give every view of a blueprint an access level (a view's own ``access`` wins), and
    say how its requests are signed in: by the session, or by a bearer token."""
    if level not in LEVELS:
        raise ValueError(f"unknown access level {level!r}")
    if credentials not in CREDENTIALS:
        raise ValueError(f"unknown credentials {credentials!r}")
    blueprint.access_level = level
    blueprint.access_credentials = credentials
    return blueprint


def access_credentials(app: Flask, endpoint: str) -> str:
    """How requests to an endpoint are signed in: SESSION or BEARER."""
    if "." in endpoint:
        blueprint = app.blueprints.get(endpoint.rsplit(".", 1)[0])
        return getattr(blueprint, "access_credentials", SESSION)
    return SESSION


class BearerTokenRequired(Unauthorized):
    """401 for a bearer endpoint: no token, or one that opens nothing (unknown, revoked,
    or its user deactivated), told apart only as RFC 6750 does."""

    def __init__(self, given: bool) -> None:
        self.given = given
        super().__init__(
            "This token is not valid: it is unknown or revoked, or its user is deactivated."
            if given
            else "Send an API token: Authorization: Bearer TOKEN."
        )

    def get_headers(self, environ=None, scope=None) -> list[tuple[str, str]]:
        challenge = 'Bearer realm="surveys"'
        if self.given:
            challenge += ', error="invalid_token"'
        return [*super().get_headers(environ, scope), ("WWW-Authenticate", challenge)]


def access_level(app: Flask, endpoint: str) -> str | None:
    """The level of an endpoint, or None when nobody classified it."""
    if endpoint == "static":
        return PUBLIC
    level = getattr(app.view_functions.get(endpoint), "access_level", None)
    if level is None and "." in endpoint:
        blueprint = app.blueprints.get(endpoint.rsplit(".", 1)[0])
        level = getattr(blueprint, "access_level", None)
    return level


@dataclass(frozen=True)
class Scope:
    """Whom a staff request acts for: every staff query and service takes one."""

    user_id: int | None
    email: str
    role: str

    @property
    def sees_everything(self) -> bool:
        return self.role in ("admin", "cx")

    @classmethod
    def of(cls, user: object) -> "Scope":
        return cls(user.id, user.email, user.role)

    @classmethod
    def system(cls) -> "Scope":
        """The command line, tasks and the demo: the operator sees everything."""
        return cls(None, "system", "admin")


def visible_accounts(scope: Scope) -> sa.Select:
    """The accounts ``scope`` may see: every one for CX and admins, their own (by
    account_manager_email) for an account manager. Every staff query starts here."""
    query = sa.select(Account)
    if not scope.sees_everything:
        query = query.where(Account.account_manager_email == scope.email)
    return query


def visible_account_ids(scope: Scope) -> sa.Select:
    """The ids of ``visible_accounts``, for ``Account.id.in_(...)`` and joins."""
    return visible_accounts(scope).with_only_columns(Account.id)


def current_scope() -> Scope:
    """The signed-in user's scope (views only; services take it as an argument)."""
    scope = g.get("scope")
    if scope is None:
        abort(404)
    return scope


def enforce() -> object | None:
    """Before every request: the endpoint's level against who is asking."""
    endpoint = request.endpoint
    if endpoint is None:  # no route: the 404 or 405 follows
        return None
    level = access_level(current_app, endpoint)
    if level is None:
        logger.error("endpoint %s has no access level: refused", endpoint)
        abort(404)
    if level == PUBLIC:
        return None
    if access_credentials(current_app, endpoint) == BEARER:
        return _enforce_bearer(level)
    if not current_user.is_authenticated:
        if request.method in ("GET", "HEAD"):
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        abort(401)
    if current_user.role not in ROLES_OF_LEVEL[level]:
        abort(404)
    g.scope = Scope.of(current_user)
    if (
        current_user.role == "admin"
        and current_app.config["REQUIRE_ADMIN_2FA"]
        and current_user.totp_enabled_at is None
        and endpoint not in ENROLMENT_ENDPOINTS
    ):
        flash("Admins must set up two-factor sign-in before anything else.", "error")
        return redirect(url_for("auth.two_factor"))
    return None


def _enforce_bearer(level: str) -> None:
    """A bearer endpoint: the token's user, as they are now, against the level. No
    session, no redirect; an admin's two-factor enrolment is the pages' business (a
    token is made by a signed-in user or by the operator at the command line)."""
    from surveys.auth.tokens import bearer_token, token_user
    from surveys.columns import utcnow
    from surveys.extensions import db

    token = bearer_token(request.headers.get("Authorization"))
    found = token_user(db.session, token, utcnow())
    if found is None:
        raise BearerTokenRequired(given=token is not None)
    _token, user = found
    role, scope = user.role, Scope.of(user)
    db.session.commit()  # the token's last use, when it was noted
    if role not in ROLES_OF_LEVEL[level]:
        abort(404)
    g.scope = scope
