"""Settings, read from the environment. ``SURVEYS_ENV`` picks the class (default: production)."""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _number(name: str, default: str, kind: type[int] | type[float] = int) -> int | float:
    value = os.environ.get(name, default)
    try:
        return kind(value)
    except ValueError:
        raise RuntimeError(f"{name}={value!r} is not a number.") from None


def _seconds_list(name: str, default: str) -> list[int]:
    value = os.environ.get(name, default)
    try:
        delays = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        delays = []
    if not delays or any(delay <= 0 for delay in delays):
        raise RuntimeError(
            f"{name}={value!r} must be whole numbers of seconds above 0, comma-separated."
        )
    return delays


def _hosts(base_url: str, extra: str) -> list[str]:
    """The host of the public base URL and any named, comma-separated, in ``extra``."""
    hosts = [urlsplit(base_url).hostname or "", *extra.split(",")]
    return [host.strip() for host in hosts if host.strip()]


# A key shorter than this can be guessed offline from one signed cookie or form token.
SECRET_KEY_MIN_LENGTH = 32


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'surveys.db'}"
    )
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = _number("MAIL_PORT", "25")
    MAIL_USE_TLS = _flag("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _flag("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    # Seconds any one SMTP step (connect, greeting, each command) may take.
    MAIL_TIMEOUT = _number("MAIL_TIMEOUT", "30", float)
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "surveys@localhost")
    # Delivery. A broker (Redis or RabbitMQ) sends through Celery workers; without one
    # the process that queued the mail sends it.
    CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or None
    REDIS_URL = os.environ.get("REDIS_URL") or None
    # Where the sign-in limits count: shared by every process through Redis when there is
    # one, per process otherwise.
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    SEND_BATCH_SIZE = _number("SEND_BATCH_SIZE", "100")
    SEND_RATE_PER_MINUTE = _number("SEND_RATE_PER_MINUTE", "0")
    SEND_RETRY_DELAYS = _seconds_list("SEND_RETRY_DELAYS", "60,300,1800,7200")
    SENDING_STALE_AFTER_S = _number("SENDING_STALE_AFTER_S", "600")
    # How long a sender holds claimed e-mails it has not begun (renewed while it works).
    SEND_LEASE_S = _number("SEND_LEASE_S", "20", float)
    # The Celery queue: several installations can share one broker.
    CELERY_QUEUE = os.environ.get("CELERY_QUEUE", "surveys")
    REMINDER_AFTER_DAYS = _number("REMINDER_AFTER_DAYS", "4")
    NPS_FATIGUE_DAYS = _number("NPS_FATIGUE_DAYS", "90")
    FREE_TEXT_RETENTION_DAYS = _number("FREE_TEXT_RETENTION_DAYS", "730")
    # Seconds before each retry of a webhook the receiver did not take.
    WEBHOOK_RETRY_DELAYS = _seconds_list("WEBHOOK_RETRY_DELAYS", "30,120,600,3600,21600")
    # A detractor's or exit answer's follow-up is due (first contact) this many hours after
    # the answer; open past it, it is overdue.
    FOLLOW_UP_DUE_HOURS = _number("FOLLOW_UP_DUE_HOURS", "48")
    # Who is asking: the supplier's name on e-mails and customer pages, its logo (an
    # https URL, optional) and the From's display name (unset: the company's name).
    COMPANY_NAME = os.environ.get("COMPANY_NAME", "").strip() or None
    COMPANY_LOGO_URL = os.environ.get("COMPANY_LOGO_URL", "").strip() or None
    MAIL_SENDER_NAME = os.environ.get("MAIL_SENDER_NAME", "").strip() or None
    # Public base of the personal survey links put in e-mails, without a trailing slash.
    SURVEYS_BASE_URL = os.environ.get("SURVEYS_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    # Host headers the app answers to; None answers any (development and tests). In
    # production only the host of SURVEYS_BASE_URL, plus any named in TRUSTED_HOSTS.
    TRUSTED_HOSTS: list[str] | None = None
    SESSION_COOKIE_SAMESITE = "Lax"
    # A campaign that is created without --closes-in-days closes after this many days.
    CAMPAIGN_DEFAULT_DAYS_OPEN = 30
    # The report window: answers older than this many days do not count.
    REPORT_WINDOW_DAYS = 365
    # Staff sign-in. Admins must set up two-factor sign-in before anything else where
    # this is on (production's default). "Remember me" lasts at most 14 days.
    REQUIRE_ADMIN_2FA = _flag("REQUIRE_ADMIN_2FA", True)
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Sign-in attempts: per address the request comes from, and per account tried.
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "20 per minute")
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes")
    RATELIMIT_HEADERS_ENABLED = True
    # Requests a minute (or any Flask-Limiter limit) per API token, counted where the
    # sign-in limits are.
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600 per minute")
    # Where the development SMTP sink keeps every message it receives; the outbox
    # page reads it. Unset in production: no outbox page.
    OUTBOX_DIR = os.environ.get("OUTBOX_DIR")
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    # The import page's limits on a contacts CSV, so that a file at either (about
    # 100,000 contacts with every column in 10 MB) is imported well inside gunicorn's
    # 30-second worker timeout; the time goes with the rows. The command line has none.
    IMPORT_MAX_BYTES = 10 * 1000 * 1000
    IMPORT_MAX_ROWS = 150_000
    # An XLSX download is built whole before it is sent, at about 3,000 rows a second; a
    # larger export is refused with the way to get it (the CSV streams; the command line
    # has no limit), well inside gunicorn's 30-second worker timeout.
    EXPORT_XLSX_MAX_ROWS = 50_000
    # Retention: the gross margin on a customer's revenue (a share, 0.6 = 60 %) for CLV, and
    # what winning a new customer costs (sales and marketing spend / new customers, in
    # the currency of annual_revenue) for CLV and the cost of a lost customer.
    GROSS_MARGIN = _number("GROSS_MARGIN", "0.6", float)
    ACQUISITION_COST = _number("ACQUISITION_COST", "0", float)
    BABEL_DEFAULT_LOCALE = "en"
    # Our forms carry their own translated messages; WTForms' catalogue would be parsed
    # again on every request.
    WTF_I18N_ENABLED = False
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "surveys" / "translations")
    # A server database can drop idle connections; a SQLite file cannot. Parameters (names,
    # addresses, answers) stay out of logged errors.
    SQLALCHEMY_ENGINE_OPTIONS = {
        "pool_pre_ping": not SQLALCHEMY_DATABASE_URI.startswith("sqlite"),
        "hide_parameters": True,
    }

    @classmethod
    def check(cls) -> None:
        """Refuse settings the app cannot safely run with; the message says why."""
        if not cls.MAIL_TIMEOUT > 0:
            raise RuntimeError("MAIL_TIMEOUT must be a number of seconds greater than 0.")
        for name, low in (
            ("SEND_BATCH_SIZE", 1),
            ("SEND_RATE_PER_MINUTE", 0),
            ("SENDING_STALE_AFTER_S", 1),
            ("REMINDER_AFTER_DAYS", 0),
            ("NPS_FATIGUE_DAYS", 0),
            ("FREE_TEXT_RETENTION_DAYS", 1),
            ("FOLLOW_UP_DUE_HOURS", 1),
        ):
            if getattr(cls, name) < low:
                raise RuntimeError(f"{name} must be {low} or more.")
        if not 0 < cls.GROSS_MARGIN <= 1:
            raise RuntimeError(
                f"GROSS_MARGIN={cls.GROSS_MARGIN} must be a share above 0 and at most 1, "
                "e.g. 0.6 for 60 %."
            )
        if not 0 <= cls.ACQUISITION_COST < float("inf"):
            raise RuntimeError(
                "ACQUISITION_COST must be 0 or more: what winning one new customer costs."
            )
        for name in ("COMPANY_NAME", "MAIL_SENDER_NAME", "MAIL_DEFAULT_SENDER"):
            value = getattr(cls, name) or ""
            if any(ord(character) < 32 or ord(character) == 127 for character in value):
                raise RuntimeError(f"{name} contains a line break or another control character.")
        if cls.COMPANY_LOGO_URL and urlsplit(cls.COMPANY_LOGO_URL).scheme not in ("https", "http"):
            raise RuntimeError(
                "COMPANY_LOGO_URL must be an https:// address of an image that mail clients "
                "can load, e.g. https://www.example.com/logo.png."
            )


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    TRUSTED_HOSTS = _hosts(Config.SURVEYS_BASE_URL, os.environ.get("TRUSTED_HOSTS", ""))

    @classmethod
    def check(cls) -> None:
        super().check()
        how = (
            "set SECRET_KEY to a long random value, e.g. "
            'python -c "import secrets; print(secrets.token_hex(32))".'
        )
        if not cls.SECRET_KEY:
            raise RuntimeError(
                "SECRET_KEY is not set. In production it signs the forms' CSRF tokens and "
                f"sessions, so the app refuses to start without it: {how}"
            )
        if len(cls.SECRET_KEY) < SECRET_KEY_MIN_LENGTH:
            raise RuntimeError(
                f"SECRET_KEY is {len(cls.SECRET_KEY)} characters long; it must have at least "
                f"{SECRET_KEY_MIN_LENGTH}, because a short key can be guessed from one signed "
                f"cookie or form token: {how}"
            )


class DevelopmentConfig(Config):
    SECRET_KEY = Config.SECRET_KEY or "development-only-secret"
    REQUIRE_ADMIN_2FA = _flag("REQUIRE_ADMIN_2FA", False)
    MAIL_PORT = _number("MAIL_PORT", "8025")
    OUTBOX_DIR = Config.OUTBOX_DIR or str(INSTANCE_DIR / "outbox")


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    REQUIRE_ADMIN_2FA = False
    WTF_CSRF_ENABLED = False
    MAIL_SERVER = "127.0.0.1"
    MAIL_TIMEOUT = 5.0
    # Tests send several NPS campaigns to the same contacts; the fatigue rule's own tests
    # turn it on.
    NPS_FATIGUE_DAYS = 0
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
