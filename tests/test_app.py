"""Settings, the app factory and migrations."""

import subprocess
import sys

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from config import DevelopmentConfig, ProductionConfig, config_from_environment
from surveys import create_app
from surveys.extensions import db as _db
from tests.conftest import TEST_DATABASE_URL, build_app, drop_everything, migrate_to_head


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
        "SECRET_KEY": "s3cret",
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        "MAIL_SERVER": "smtp.example.com",
        "MAIL_PORT": "2525",
        "MAIL_DEFAULT_SENDER": "cx@example.com",
        "SURVEYS_BASE_URL": "https://surveys.example.com/",
    }
    code = (
        "from wsgi import app; c = app.config; print(c['SECRET_KEY'], "
        "c['SQLALCHEMY_DATABASE_URI'], c['MAIL_SERVER'], c['MAIL_PORT'], "
        "c['MAIL_DEFAULT_SENDER'], c['SURVEYS_BASE_URL'], c['STAFF_PAGES_OPEN'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == [
        "s3cret",
        f"sqlite:///{tmp_path}/x.db",
        "smtp.example.com",
        "2525",
        "cx@example.com",
        "https://surveys.example.com",
        "False",
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
