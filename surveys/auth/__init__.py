"""Staff users, their sign-in and what each may reach: see ``access`` for the rules."""

from flask import Flask
from flask_login import AnonymousUserMixin

from surveys.auth.access import enforce
from surveys.extensions import db, login_manager


class Anonymous(AnonymousUserMixin):
    role = None
    totp_enabled_at = None


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.anonymous_user = Anonymous
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    # Flask-Login's own "strong" protection would log users out whenever their address
    # changes (phones do); the session version below ends sessions that must end.
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(identity: str):
        from surveys.auth.models import User

        user_id, _, version = identity.partition(":")
        if not (
            user_id.isascii() and user_id.isdigit() and version.isascii() and version.isdigit()
        ):
            return None
        user = db.session.get(User, int(user_id))
        # A changed password or a deactivation raised the version: older sessions end.
        if user is None or not user.active or str(user.session_version) != version:
            return None
        return user

    app.before_request(enforce)
