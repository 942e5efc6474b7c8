"""The NPS and exit-survey platform: ``create_app`` builds the Flask application."""

import logging
from pathlib import Path

from flask import Flask, redirect, request, url_for
from werkzeug.wrappers import Response

from config import Config, config_from_environment
from surveys import auth, extensions, i18n, security
from surveys.columns import render_migration_item
from surveys.delivery import queue
from surveys.respond.links import mask_tokens


class SurveysFlask(Flask):
    def log_exception(self, exc_info) -> None:
        """Flask's own line, without the personal token a customer URL holds."""
        self.logger.error(
            "Exception on %s [%s]", mask_tokens(request.path), request.method, exc_info=exc_info
        )


def create_app(config: type[Config] | None = None) -> Flask:
    config = config or config_from_environment()
    config.check()
    app = SurveysFlask(__name__, template_folder="../templates", static_folder="../static")
    app.config.from_object(config)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    register_extensions(app)
    security.register_converters(app)
    register_blueprints(app)
    register_commands(app)
    i18n.init_app(app)
    security.init_app(app)
    return app


def register_extensions(app: Flask) -> None:
    extensions.db.init_app(app)
    extensions.migrate.init_app(
        app,
        extensions.db,
        directory=str(Path(app.root_path).parent / "migrations"),
        render_item=render_migration_item,
    )
    extensions.csrf.init_app(app)
    extensions.babel.init_app(app, locale_selector=i18n.select_locale)
    extensions.limiter.init_app(app)
    auth.init_app(app)
    queue.init_app(app)


def register_blueprints(app: Flask) -> None:
    import surveys.auth.mail  # noqa: F401 (registers the password-reset e-mail)
    import surveys.followups.mail  # noqa: F401 (registers the follow-up alert and digest)
    from surveys.accounts.views import blueprint as accounts
    from surveys.api.views import blueprint as api
    from surveys.auth.access import PUBLIC, STAFF, access, blueprint_access, current_scope
    from surveys.auth.views import blueprint as auth_pages
    from surveys.campaigns.views import blueprint as campaigns
    from surveys.errors import register_error_handlers
    from surveys.exports.views import blueprint as exports
    from surveys.followups.views import blueprint as followups
    from surveys.reasons.views import blueprint as reasons
    from surveys.reports.views import blueprint as reports
    from surveys.respond.views import blueprint as respond
    from surveys.webhooks.views import blueprint as webhook_pages

    app.register_blueprint(accounts)
    app.register_blueprint(campaigns)
    app.register_blueprint(reasons)
    app.register_blueprint(followups)
    app.register_blueprint(exports)
    app.register_blueprint(blueprint_access(respond, PUBLIC))
    app.register_blueprint(auth_pages)
    app.register_blueprint(webhook_pages)
    app.register_blueprint(reports)
    app.register_blueprint(api)
    extensions.csrf.exempt(respond)
    if app.config.get("OUTBOX_DIR"):
        from surveys.outbox.views import blueprint as outbox

        app.register_blueprint(outbox)
    register_error_handlers(app)

    from surveys.reports.nps import signed

    app.add_template_filter(signed)

    @app.get("/")
    @access(STAFF)
    def index() -> Response:
        """An account manager starts at their accounts, most at risk first; CX and
        admins at every account's NPS."""
        if current_scope().sees_everything:
            return redirect(url_for("accounts.index"))
        return redirect(url_for("accounts.mine"))


def register_commands(app: Flask) -> None:
    from surveys.accounts.cli import contacts
    from surveys.auth.cli import users
    from surveys.campaigns.cli import campaigns
    from surveys.demo.cli import demo
    from surveys.exports.cli import export
    from surveys.followups.cli import followups
    from surveys.outbox.cli import outbox
    from surveys.reasons.cli import reasons
    from surveys.reports.cli import report
    from surveys.webhooks.cli import webhooks

    for group in (
        contacts,
        campaigns,
        report,
        export,
        reasons,
        outbox,
        demo,
        users,
        webhooks,
        followups,
    ):
        app.cli.add_command(group)
