"""Settings, the app factory and migrations."""

import logging
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from config import DevelopmentConfig, ProductionConfig, TestingConfig, config_from_environment
from surveys import create_app
from surveys.auth.access import PUBLIC, access
from surveys.extensions import db as _db
from surveys.outbox.sink import free_port
from tests.conftest import TEST_DATABASE_URL, build_app, drop_everything, migrate_to_head
from tests.factories import AccountFactory
from tests.helpers import create_campaign, send, token_of

ROOT = Path(__file__).resolve().parent.parent


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", None)
    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        create_app(ProductionConfig)


def test_wsgi_refuses_without_secret_key_and_says_why(tmp_path):
    env = {"SURVEYS_ENV": "production", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("SURVEYS_ENV", "development")
    assert config_from_environment() is DevelopmentConfig
    monkeypatch.setenv("SURVEYS_ENV", "staging")
    with pytest.raises(RuntimeError, match="'staging' is not one of"):
        config_from_environment()


def test_config_reads_every_documented_variable(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "SURVEYS_ENV": "production",
        "SECRET_KEY": "s3cret" * 6,
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        "MAIL_SERVER": "smtp.example.com",
        "MAIL_PORT": "2525",
        "MAIL_DEFAULT_SENDER": "cx@example.com",
        "MAIL_TIMEOUT": "12.5",
        "MAIL_SENDER_NAME": "Nordljus-CX",
        "COMPANY_NAME": "Nordljus",
        "COMPANY_LOGO_URL": "https://cdn.example.com/logo.png",
        "SURVEYS_BASE_URL": "https://surveys.example.com/",
        "TRUSTED_HOSTS": "internal.example.com, ",
        "FOLLOW_UP_DUE_HOURS": "24",
    }
    code = (
        "from wsgi import app; c = app.config; print(c['SECRET_KEY'], "
        "c['SQLALCHEMY_DATABASE_URI'], c['MAIL_SERVER'], c['MAIL_PORT'], "
        "c['MAIL_DEFAULT_SENDER'], c['SURVEYS_BASE_URL'], c['REQUIRE_ADMIN_2FA'], "
        "c['MAIL_TIMEOUT'], c['MAIL_SENDER_NAME'], c['COMPANY_NAME'], c['COMPANY_LOGO_URL'], "
        "','.join(c['TRUSTED_HOSTS']), c['SESSION_COOKIE_SECURE'], c['SESSION_COOKIE_SAMESITE'], "
        "c['FOLLOW_UP_DUE_HOURS'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == [
        "s3cret" * 6,
        f"sqlite:///{tmp_path}/x.db",
        "smtp.example.com",
        "2525",
        "cx@example.com",
        "https://surveys.example.com",
        "True",
        "12.5",
        "Nordljus-CX",
        "Nordljus",
        "https://cdn.example.com/logo.png",
        "surveys.example.com,internal.example.com",
        "True",
        "Lax",
        "24",
    ]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_migrations_build_the_models_schema(kind, tmp_path):
    """Migrate an empty database, check models and migrations agree, and go back down."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path}/empty.db"
    elif TEST_DATABASE_URL:
        url = TEST_DATABASE_URL
        drop_everything(url)
    else:
        pytest.skip("TEST_DATABASE_URL is not set")
    try:
        app = build_app(url)
        runner = app.test_cli_runner()
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
        # "db check" exits 1 when the models hold anything the migrations do not
        result = runner.invoke(args=["db", "check"])
        assert result.exit_code == 0, result.output
        # autogenerate does not compare CHECK constraints: compare their names here
        engine = sa.create_engine(url)
        inspector = sa.inspect(engine)
        for table in _db.metadata.sorted_tables:
            declared = {
                constraint.name
                for constraint in table.constraints
                if isinstance(constraint, sa.CheckConstraint)
            }
            migrated = {check["name"] for check in inspector.get_check_constraints(table.name)}
            assert declared == migrated, table.name
        engine.dispose()
        with app.app_context():
            downgrade(revision="base")
            engine = sa.create_engine(url)
            tables = set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
            engine.dispose()
            assert tables == set()
            upgrade()
    finally:
        if kind == "postgresql":
            drop_everything(url)
            migrate_to_head(url)


# --- Production settings that refuse to be unsafe -------------------------------------


def test_production_refuses_a_short_secret_key(monkeypatch):
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "x")
    with pytest.raises(RuntimeError, match="SECRET_KEY is 1 characters long; it must have at"):
        create_app(ProductionConfig)
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "k" * 32)
    create_app(ProductionConfig)


def production_app(database_url, **settings):
    class Config(ProductionConfig):
        SECRET_KEY = "k" * 40
        SQLALCHEMY_DATABASE_URI = database_url
        SURVEYS_BASE_URL = "https://surveys.example.com"
        TRUSTED_HOSTS = ["surveys.example.com"]

    for name, value in settings.items():
        setattr(Config, name, value)
    return create_app(Config)


def test_production_answers_only_its_own_host(database_url):
    client = production_app(database_url).test_client()
    evil = client.get("/", headers={"Host": "evil.example"})
    assert evil.status_code == 400
    assert "evil.example" not in evil.headers.get("Location", "")
    good = client.get("/", base_url="https://surveys.example.com")
    assert good.status_code == 302
    assert good.headers["Location"] == "/login?next=/"


def test_production_session_cookie_is_secure_and_same_site(database_url):
    client = production_app(database_url).test_client()
    response = client.get("/login", base_url="https://surveys.example.com")
    assert response.status_code == 200
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_development_cookie_works_over_plain_http():
    assert DevelopmentConfig.SESSION_COOKIE_SAMESITE == "Lax"
    assert not getattr(DevelopmentConfig, "SESSION_COOKIE_SECURE", False)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MAIL_TIMEOUT", 0, "MAIL_TIMEOUT must be a number of seconds"),
        ("COMPANY_LOGO_URL", "javascript:alert(1)", "COMPANY_LOGO_URL must be an https://"),
        ("COMPANY_NAME", "Evil\r\nBcc: x@example.com", "COMPANY_NAME contains a line break"),
        ("MAIL_SENDER_NAME", "A\nB", "MAIL_SENDER_NAME contains a line break"),
        ("FOLLOW_UP_DUE_HOURS", 0, "FOLLOW_UP_DUE_HOURS must be 1 or more"),
    ],
)
def test_settings_that_would_break_mail_are_refused(name, value, message):
    class Config(TestingConfig):
        pass

    setattr(Config, name, value)
    with pytest.raises(RuntimeError, match=message):
        create_app(Config)


def test_a_setting_that_is_not_a_number_says_so(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "SURVEYS_ENV": "development", "MAIL_TIMEOUT": "soon"}
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "MAIL_TIMEOUT='soon' is not a number." in result.stderr


# --- Every response's headers ------------------------------------------------------------


def test_staff_pages_send_the_security_headers(client):
    for path in ("/accounts/", "/campaigns/", "/reasons/", "/accounts/import", "/nothing"):
        response = client.get(path)
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Cache-Control"] == "no-store", path
        # Flask-WTF checks the Referer of HTTPS form posts, so staff pages keep it on-site
        assert headers["Referrer-Policy"] == "same-origin", path
        policy = headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        assert "<script" not in response.get_data(as_text=True), path
        assert " style=" not in response.get_data(as_text=True), path


def test_static_files_may_be_cached(client):
    response = client.get("/static/staff.css")
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- Hostile input on the staff side -----------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/a%00b",
        "/reasons/?segment=a%00b",
        "/reasons/accounts/a%00b",
        "/reasons/verbatims?reason=price%00",
        "/campaigns/?x%00=1",
    ],
)
def test_a_nul_byte_in_a_staff_url_is_a_clear_400(client, path):
    response = client.get(path)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "NUL character (U+0000)" in text
    assert 'aria-label="Main"' in text  # the staff page, with its navigation


def test_a_nul_byte_in_a_staff_form_changes_nothing(app, client):
    response = client.post("/campaigns/", data={"kind": "nps", "name": "A\x00B", "days_open": 3})
    assert response.status_code == 400
    assert "NUL character" in response.get_data(as_text=True)
    with app.app_context():
        assert _db.session.scalar(sa.text("SELECT count(*) FROM campaigns")) == 0


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("until=9999-12-31", "Until: Choose a date from 1900-01-01 to 2999-12-31."),
        ("since=0001-01-01", "From: Choose a date from 1900-01-01 to 2999-12-31."),
        ("since=٢٠٢٦-01-01", "is not a date like 2026-03-31"),
        ("since=2026-1-1", "is not a date like 2026-03-31"),
        ("until=" + "9" * 5000, "is not a date like 2026-03-31"),
    ],
)
def test_out_of_range_and_foreign_dates_are_a_400(client, query, message):
    for path in ("/reasons/", "/reasons/verbatims"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400, path
        assert message in response.get_data(as_text=True)


def test_a_server_error_on_a_staff_page_shows_no_traceback(app, client, database_url):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE accounts RENAME TO broken_accounts"))
    try:
        response = client.get("/accounts/")
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text("ALTER TABLE broken_accounts RENAME TO accounts"))
        engine.dispose()
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "500 Internal Server Error" in text
    assert "Traceback" not in text and "broken_accounts" not in text.replace("accounts/", "")


# --- Logs hold no personal data ----------------------------------------------------------


def test_no_log_line_holds_an_address_a_name_a_comment_or_a_token(
    app, runner, client, make_account, smtp_sink, caplog
):
    caplog.set_level(logging.DEBUG)
    made = make_account(
        {"language": "sv", "email": "astrid.lindqvist@nordljus.example", "name": "Astrid Lindqvist"}
    )
    campaign_id = create_campaign(runner)
    send(runner, campaign_id)
    token = token_of(smtp_sink.messages[0])
    comment = "Hemligt: Kvistgatan 12 har för dyra fakturor"
    assert client.get(f"/r/{token}?score=3").status_code == 200
    assert client.post(f"/r/{token}", data={"score": "3", "comment": comment}).status_code == 303
    assert client.post(f"/r/{token}", json={"score": 3}).status_code == 400
    assert client.post(f"/r/{token}/unsubscribe").status_code == 200
    lines = [
        record.getMessage()
        for record in caplog.records
        if not record.name.startswith("mail.log")  # the SMTP server's own log, not ours
    ]
    assert any(f"campaign {campaign_id}" in line for line in lines)  # the logs did run
    for line in lines:
        for secret in (made.emails[0], "Astrid", "Lindqvist", "Kvistgatan", "fakturor", token):
            assert secret not in line, line


def test_a_logged_server_error_masks_the_token(app, client, invited_token, caplog):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.config["SERVER_NAME"] = None

    @app.get("/r/<token>/explode")
    @access(PUBLIC)
    def explode(token):
        raise RuntimeError("boom")

    assert client.get(f"/r/{invited_token}/explode").status_code == 500
    lines = [record.getMessage() for record in caplog.records]
    assert "Exception on /r/<token>/explode [GET]" in lines
    assert not any(invited_token in line for line in lines)


@pytest.fixture
def invited_token(runner, make_account, smtp_sink):
    make_account("en")
    send(runner, create_campaign(runner))
    return token_of(smtp_sink.messages[0])


def test_gunicorns_access_log_masks_tokens(tmp_path, sqlite_template, smtp_server):
    database = tmp_path / "surveys.db"
    shutil.copy(sqlite_template, database)
    url = f"sqlite:///{database}"
    app = build_app(url, MAIL_PORT=smtp_server.port)
    AccountFactory(app)("en")
    runner = app.test_cli_runner()
    smtp_server.clear()
    send(runner, create_campaign(runner))
    token = token_of(smtp_server.messages[0])

    port = free_port()
    access_log = tmp_path / "access.log"
    env = {
        **os.environ,
        "SURVEYS_ENV": "development",
        "DATABASE_URL": url,
        "OUTBOX_DIR": str(tmp_path / "outbox"),
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--config",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--access-logfile",
            str(access_log),
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/static/staff.css", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        request = urllib.request.Request(
            f"{base}/r/{token}?score=4", headers={"Referer": f"{base}/r/{token}/thanks"}
        )
        assert urllib.request.urlopen(request, timeout=10).status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
    log = access_log.read_text()
    assert "GET /r/<token>?score=4 HTTP/1.1" in log
    assert token not in log
