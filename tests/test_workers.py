"""Delivery through real Celery workers on the machine's Redis and RabbitMQ: two workers
racing, a worker killed with SIGKILL in the middle of a batch, a broker that is down.
Each ends with every contact mailed exactly once, or visibly unknown."""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from kombu import Connection

from surveys.delivery.models import Delivery
from surveys.extensions import db
from tests.conftest import build_app
from tests.helpers import create_campaign
from tests.smtp import faulty_server

ROOT = Path(__file__).resolve().parent.parent
REDIS = "redis://127.0.0.1:6379/0"
RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"

pytestmark = pytest.mark.workers


def reachable(url: str) -> bool:
    try:
        with Connection(url, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1)
        return True
    except Exception:
        return False


@pytest.fixture
def queue_name() -> str:
    return f"surveys-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def broker(request: pytest.FixtureRequest, queue_name: str) -> Iterator[str]:
    url = getattr(request, "param", REDIS)
    if not reachable(url):
        if os.environ.get("REQUIRE_SERVICES"):
            pytest.fail(f"REQUIRE_SERVICES is set but {url} cannot be reached")
        pytest.skip(f"no broker at {url}")
    yield url
    with Connection(url) as connection:
        try:
            connection.default_channel.queue_delete(queue_name)
        except Exception:
            pass


class Workers:
    """Celery workers in their own processes, as `make worker` starts them."""

    def __init__(self, env: dict[str, str], tmp_path: Path):
        self.env = env
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen] = []

    def start(self, name: str, **settings: str) -> subprocess.Popen:
        log = (self.tmp_path / f"{name}.log").open("w")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "--app",
                "wsgi:celery",
                "worker",
                "--pool",
                "solo",
                "--hostname",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env={**self.env, **settings},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def setting_up(database_url, broker, queue_name, tmp_path):
    """(make_app, workers): the test's app and workers on one database and broker."""
    if database_url.startswith("sqlite:///:memory:"):
        pytest.skip("workers need a database they can share")
    environments = []
    workers_made = []

    def make(smtp_port: int, **settings):
        app = build_app(
            database_url,
            MAIL_PORT=smtp_port,
            CELERY_BROKER_URL=broker,
            CELERY_QUEUE=queue_name,
            **settings,
        )
        env = {
            **os.environ,
            "SURVEYS_ENV": "development",
            "DATABASE_URL": database_url,
            "SECRET_KEY": app.config["SECRET_KEY"],
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(smtp_port),
            "SURVEYS_BASE_URL": app.config["SURVEYS_BASE_URL"],
            "OUTBOX_DIR": str(tmp_path / "outbox"),
            "CELERY_BROKER_URL": broker,
            "CELERY_QUEUE": queue_name,
            "NPS_FATIGUE_DAYS": "0",
            **{name: str(value) for name, value in settings.items()},
        }
        environments.append(env)
        workers = Workers(env, tmp_path)
        workers_made.append(workers)
        return app, workers

    yield make
    for workers in workers_made:
        workers.stop()


def wait_until(condition, timeout: float = 60, every: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(every)


def people(count: int) -> list[dict]:
    return [
        {"language": ("sv", "nb", "en")[number % 3], "email": f"p{number}@fjord.example"}
        for number in range(count)
    ]


def states(app) -> dict[str, int]:
    with app.app_context():
        return dict(
            db.session.execute(
                sa.select(Delivery.state, sa.func.count()).group_by(Delivery.state)
            ).all()
        )


@pytest.mark.parametrize("broker", [REDIS, RABBITMQ], indirect=True, ids=["redis", "rabbitmq"])
def test_two_workers_send_a_campaign_once_each(setting_up, make_account):
    made = make_account(*people(60))
    with faulty_server() as (handler, port):
        app, workers = setting_up(port, SEND_BATCH_SIZE=7)
        workers.start("one")
        workers.start("two")
        runner = app.test_cli_runner()
        campaign_id = create_campaign(runner)
        result = runner.invoke(args=["campaigns", "send", str(campaign_id), "--wait"])
        assert result.exit_code == 0, result.output
        assert result.output.splitlines()[0] == "60 queued"
        assert result.output.strip().endswith("60 sent")
    received = handler.recipients()
    assert sorted(received) == sorted(made.emails)  # each exactly once
    assert states(app) == {"sent": 60}


def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(setting_up, make_account):
    made = make_account(*people(30))
    with faulty_server() as (handler, port):
        handler.delay = 0.15
        app, workers = setting_up(port, SEND_BATCH_SIZE=10, SEND_LEASE_S=2, SENDING_STALE_AFTER_S=1)
        doomed = workers.start("doomed")
        runner = app.test_cli_runner()
        campaign_id = create_campaign(runner)
        assert runner.invoke(args=["campaigns", "send", str(campaign_id)]).exit_code == 0
        wait_until(lambda: len(handler.received) >= 4)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=10)
        before = states(app)
        assert before.get("sending", 0) <= 1  # only the one being handed over is in doubt
        assert before.get("queued", 0) >= 10  # claimed rows it never began are still queued
        handler.delay = 0
        workers.start("rescuer")
        time.sleep(2.5)  # the dead worker's lease and the stale-sending limit run out
        tick = runner.invoke(args=["campaigns", "tick"])
        assert tick.exit_code == 0, tick.output
        wait_until(lambda: states(app).get("queued", 0) == 0 and not states(app).get("sending"))
    received = handler.recipients()
    assert len(received) == len(set(received))  # nobody twice
    after = states(app)
    assert after.get("sent", 0) + after.get("unknown", 0) == 30
    assert after.get("unknown", 0) == before.get("sending", 0)
    with app.app_context():
        unknown = db.session.scalar(sa.select(sa.func.count()).where(Delivery.state == "unknown"))
    # every contact got the e-mail once, or is listed as unknown
    assert len(set(received)) >= 30 - unknown
    assert set(received) <= set(made.emails)


def test_a_broker_that_is_down_keeps_everything_queued(database_url, make_account, smtp_sink):
    make_account(*people(3))
    app = build_app(
        database_url, MAIL_PORT=smtp_sink.port, CELERY_BROKER_URL="redis://127.0.0.1:1/0"
    )
    runner = app.test_cli_runner()
    campaign_id = create_campaign(runner)
    result = runner.invoke(args=["campaigns", "send", str(campaign_id)])
    assert result.exit_code != 0
    assert "the broker at redis://127.0.0.1:1/0 refused the work" in result.output
    assert "the e-mails stay queued" in result.output
    assert states(app) == {"queued": 3}
    assert smtp_sink.messages == []
