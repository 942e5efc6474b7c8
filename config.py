"""Settings, read from the environment. ``SURVEYS_ENV`` picks the class (default: production)."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'surveys.db'}"
    )
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "surveys@localhost")
    # Public base of the personal survey links put in e-mails, without a trailing slash.
    SURVEYS_BASE_URL = os.environ.get("SURVEYS_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    # A campaign that is created without --closes-in-days closes after this many days.
    CAMPAIGN_DEFAULT_DAYS_OPEN = 30
    # The report window: answers older than this many days do not count.
    REPORT_WINDOW_DAYS = 365
    # Staff pages have no login yet (a later issue adds it): they are open only where
    # this is set, which the development and testing settings do.
    STAFF_PAGES_OPEN = _flag("STAFF_PAGES_OPEN", False)
    # Where the development SMTP sink keeps every message it receives; the outbox
    # page reads it. Unset in production: no outbox page.
    OUTBOX_DIR = os.environ.get("OUTBOX_DIR")
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    # The import page's limits on a contacts CSV, so that a file at either (about
    # 100,000 contacts with every column in 10 MB) is imported well inside gunicorn's
    # 30-second worker timeout; the time goes with the rows. The command line has none.
    IMPORT_MAX_BYTES = 10 * 1000 * 1000
    IMPORT_MAX_ROWS = 150_000
    BABEL_DEFAULT_LOCALE = "en"
    # Our forms carry their own translated messages; WTForms' catalogue would be parsed
    # again on every request.
    WTF_I18N_ENABLED = False
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "surveys" / "translations")
    # A server database can drop idle connections; a SQLite file cannot.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": not SQLALCHEMY_DATABASE_URI.startswith("sqlite")}

    @classmethod
    def check(cls) -> None:
        """Refuse settings the app cannot safely run with; the message says why."""


class ProductionConfig(Config):
    @classmethod
    def check(cls) -> None:
        if not cls.SECRET_KEY:
            raise RuntimeError(
                "SECRET_KEY is not set. In production it signs the forms' CSRF tokens and "
                "sessions, so the app refuses to start without it: set SECRET_KEY to a "
                'long random value, e.g. python -c "import secrets; print(secrets.token_hex(32))".'
            )


class DevelopmentConfig(Config):
    SECRET_KEY = Config.SECRET_KEY or "development-only-secret"
    STAFF_PAGES_OPEN = _flag("STAFF_PAGES_OPEN", True)
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "8025"))
    OUTBOX_DIR = Config.OUTBOX_DIR or str(INSTANCE_DIR / "outbox")


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    STAFF_PAGES_OPEN = True
    WTF_CSRF_ENABLED = False
    MAIL_SERVER = "127.0.0.1"
    # Flask-Mail suppresses sending when testing; the tests send to a real SMTP sink.
    MAIL_SUPPRESS_SEND = False
    SURVEYS_BASE_URL = "http://surveys.test"
    OUTBOX_DIR = None


CONFIGS: dict[str, type[Config]] = {
    "production": ProductionConfig,
    "development": DevelopmentConfig,
    "testing": TestingConfig,
}


def config_from_environment() -> type[Config]:
    name = os.environ.get("SURVEYS_ENV", "production").strip().lower()
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(
            f"SURVEYS_ENV={name!r} is not one of {', '.join(sorted(CONFIGS))}."
        ) from None
