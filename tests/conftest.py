"""Fixtures: the app on SQLite (and on PostgreSQL when TEST_DATABASE_URL is set), its test
client and CLI runner, a real SMTP server, and factories for accounts and contacts."""

import os
import shutil
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade

from config import TestingConfig
from surveys import create_app
from surveys.auth.models import User
from surveys.delivery.queue import wait_for_background
from surveys.extensions import db as _db
from surveys.outbox.sink import free_port, start_sink
from tests.factories import AccountFactory

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
DATABASES = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else [])


def build_app(database_url: str, **settings: object) -> Flask:
    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = database_url

    for name, value in settings.items():
        setattr(Config, name, value)
    return create_app(Config)


def migrate_to_head(database_url: str) -> None:
    app = build_app(database_url)
    with app.app_context():
        upgrade()
        _db.engine.dispose()


def drop_everything(database_url: str) -> None:
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies, much faster than migrating again."""
    path = tmp_path_factory.mktemp("template") / "surveys.db"
    migrate_to_head(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgresql_url() -> str:
    assert TEST_DATABASE_URL
    drop_everything(TEST_DATABASE_URL)
    migrate_to_head(TEST_DATABASE_URL)
    return TEST_DATABASE_URL


def truncate_all(database_url: str) -> None:
    engine = sa.create_engine(database_url)
    tables = ", ".join(table.name for table in _db.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each kind the suite runs on."""
    if request.param == "sqlite":
        path = tmp_path / "surveys.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgresql_url")
        yield url
        truncate_all(url)


class Sink:
    """What the SMTP server received, as parsed e-mails."""

    def __init__(self) -> None:
        self.raw: list[bytes] = []
        self.port = 0

    def deliver(self, raw: bytes) -> None:
        self.raw.append(raw)

    @property
    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(raw, policy=policy.default) for raw in self.raw]

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if address in message["To"]]

    def clear(self) -> None:
        self.raw.clear()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[Sink]:
    sink = Sink()
    sink.port = free_port()
    controller = start_sink("127.0.0.1", sink.port, sink.deliver)
    yield sink
    controller.stop()


@pytest.fixture
def smtp_sink(smtp_server: Sink) -> Sink:
    """A real SMTP server (aiosmtpd) that MAIL_SERVER and MAIL_PORT point at."""
    smtp_server.clear()
    return smtp_server


@pytest.fixture
def app(database_url: str, smtp_server: Sink) -> Iterator[Flask]:
    """The app, with no context pushed: like in production, each request and command
    gets its own, so nothing leaks between them. Tests that read the database directly
    use ``with app.app_context():``."""
    app = build_app(database_url, MAIL_PORT=smtp_server.port)
    yield app
    # e-mails a request queued (a follow-up's alert) go before the next test's sink opens
    wait_for_background()
    with app.app_context():
        _db.engine.dispose()


@pytest.fixture
def db(app: Flask):
    return _db


# Every test user's password, hashed once for the session (argon2 takes a while).
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def password_hash() -> str:
    return PasswordHasher().hash(PASSWORD)


class UserFactory:
    """Staff users stored through the model, all with ``PASSWORD``."""

    def __init__(self, app: Flask, password_hash: str):
        self.app = app
        self.password_hash = password_hash

    def __call__(self, email: str, role: str, **fields: object) -> int:
        with self.app.app_context():
            user = User(email=email, role=role, password_hash=self.password_hash, **fields)
            _db.session.add(user)
            _db.session.commit()
            return user.id


@pytest.fixture
def make_user(app: Flask, password_hash: str) -> UserFactory:
    return UserFactory(app, password_hash)


def sign_in(client: FlaskClient, user_id: int, version: int = 1) -> FlaskClient:
    """Sign the client in as Flask-Login would, without the password round trip."""
    with client.session_transaction() as session:
        session["_user_id"] = f"{user_id}:{version}"
        session["_fresh"] = True
    return client


@pytest.fixture
def admin_id(make_user: UserFactory) -> int:
    """An admin user, for test clients of apps built with other settings:
    ``sign_in(app.test_client(), admin_id)``."""
    return make_user("admin@supplier.example", "admin")


@pytest.fixture
def client(app: Flask, admin_id: int) -> FlaskClient:
    """A test client signed in as an admin (customer pages ignore it)."""
    return sign_in(app.test_client(), admin_id)


@pytest.fixture
def anonymous(app: Flask) -> FlaskClient:
    """A test client nobody signed in with."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def make_account(app: Flask) -> AccountFactory:
    return AccountFactory(app)
