"""Sending speed through the queue, as a ratio to a plain smtplib loop in the same run.

Both send to the same local SMTP sink (aiosmtpd in its own process, counting every
recipient so duplicates show):

- baseline: the same invitations, rendered beforehand, sent one after another over one
  reused connection by a bare smtplib loop;
- queue: `campaigns send` of an N-contact NPS campaign on PostgreSQL, delivered by two
  Celery workers on Redis (the production layout);
- embedded: the same on SQLite without a broker (what `make run` does), in the process
  that queues them.

Goal (issue 8): send_ratio >= 0.6 of the baseline's messages per second, a worker's peak
RSS flat between 5,000 and 20,000 messages, no duplicates, no errors.

    .venv/bin/python bench/send.py [--contacts 20000] [--database-url postgresql+psycopg://...]

The last line printed is one JSON object of the figures.
"""

import argparse
import json
import os
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET_KEY = "bench-secret-" * 4
SINK = """
import sys
from aiosmtpd.controller import Controller

class Counter:
    def __init__(self, path):
        self.out = open(path, "w", buffering=1 << 16)

    async def handle_DATA(self, server, session, envelope):
        for address in envelope.rcpt_tos:
            self.out.write(address + "\\n")
        return "250 OK"

handler = Counter(sys.argv[2])
controller = Controller(handler, hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
import signal, threading
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
stop.wait()
handler.out.flush()
controller.stop()
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


class Sink:
    def __init__(self, workdir: Path, name: str):
        self.port = free_port()
        self.path = workdir / f"{name}.recipients"
        self.process = subprocess.Popen(
            [sys.executable, "-c", SINK, str(self.port), str(self.path)], cwd=ROOT
        )
        wait_for_port(self.port)

    def recipients(self) -> list[str]:
        if not self.path.exists():
            return []
        return [line for line in self.path.read_text().splitlines() if line]

    def stop(self) -> list[str]:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        return self.recipients()


def make_app(database_url: str, smtp_port: int, **settings):
    from config import DevelopmentConfig
    from surveys import create_app

    class Config(DevelopmentConfig):
        SECRET_KEY = SECRET_KEY
        SQLALCHEMY_DATABASE_URI = database_url
        MAIL_PORT = smtp_port
        MAIL_SERVER = "127.0.0.1"
        NPS_FATIGUE_DAYS = 0
        OUTBOX_DIR = None

    for name, value in settings.items():
        setattr(Config, name, value)
    return create_app(Config)


def seed(app, contacts: int) -> int:
    """A migrated, empty database with ``contacts`` contacts (5 an account, sv/nb/en) and
    one NPS campaign; returns its id."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from surveys.accounts.models import Account, Contact
    from surveys.campaigns.models import Campaign
    from surveys.extensions import db

    with app.app_context():
        upgrade()
        accounts = Account.__table__
        people = Contact.__table__
        now = datetime.now(UTC)
        db.session.execute(
            sa.insert(accounts),
            [
                {
                    "external_id": f"B{number}",
                    "name": f"Bench account {number}",
                    "status": "active",
                    "created_at": now,
                    "updated_at": now,
                }
                for number in range(contacts // 5)
            ],
        )
        ids = db.session.scalars(sa.select(accounts.c.id).order_by(accounts.c.id)).all()
        db.session.execute(
            sa.insert(people),
            [
                {
                    "account_id": ids[number // 5],
                    "email": f"c{number}@b{number // 5}.example",
                    "name": f"Kontakt {number}",
                    "role": "user",
                    "language": ("sv", "nb", "en")[number % 3],
                    "created_at": now,
                    "updated_at": now,
                }
                for number in range(contacts)
            ],
        )
        campaign = Campaign(
            kind="nps", name="Bench", created_at=now, closes_at=now + timedelta(days=30)
        )
        db.session.add(campaign)
        db.session.commit()
        campaign_id = campaign.id
        db.engine.dispose()
    return campaign_id


def prepared_messages(app, contacts: int) -> list[tuple[str, str, bytes]]:
    """The baseline's messages: the same invitations, rendered before the clock starts."""
    from surveys.campaigns.tokens import new_token
    from surveys.mail.messages import MailSettings, invitation_message

    class Campaign:
        kind = "nps"
        closes_at = datetime.now(UTC) + timedelta(days=30)

    class Contact:
        def __init__(self, number: int):
            self.email = f"c{number}@b{number // 5}.example"
            self.name = f"Kontakt {number}"
            self.language = ("sv", "nb", "en")[number % 3]

    settings = None
    messages = []
    with app.app_context():
        settings = MailSettings.from_config(app.config)
        for number in range(contacts):
            message, envelope = invitation_message(
                Campaign, Contact(number), new_token(), settings, message_id=f"base.{number}"
            )
            messages.append((envelope.sender, envelope.recipient, message.data))
    return messages


def baseline(messages: list[tuple[str, str, bytes]], port: int) -> float:
    """A bare smtplib loop over one connection: messages per second."""
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for sender, recipient, data in messages:
            smtp.sendmail(sender, [recipient], data)
    return len(messages) / (time.perf_counter() - start)


def process_tree(pid: int) -> list[int]:
    """A worker and its pool's processes."""
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            pids.extend(process_tree(int(child)))
    return pids


def rss_peak_mb(pid: int) -> float:
    """The largest peak resident memory so far (VmHWM) of a worker's processes, in MB."""
    peaks = []
    for member in process_tree(pid):
        for line in Path(f"/proc/{member}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return max(peaks, default=0.0)


def sent_count(app, campaign_id: int) -> int:
    import sqlalchemy as sa

    from surveys.delivery.models import Delivery
    from surveys.extensions import db

    with app.app_context():
        count = db.session.scalar(
            sa.select(sa.func.count()).where(
                Delivery.campaign_id == campaign_id, Delivery.state == "sent"
            )
        )
        db.session.remove()
    return count


def errors_of(app, campaign_id: int) -> int:
    import sqlalchemy as sa

    from surveys.delivery.models import Delivery
    from surveys.extensions import db

    with app.app_context():
        count = db.session.scalar(
            sa.select(sa.func.count()).where(
                Delivery.campaign_id == campaign_id,
                Delivery.state.in_(("failed", "bounced", "unknown", "skipped")),
            )
        )
        db.session.remove()
    return count


def run_queue(options, workdir: Path, sink: Sink) -> dict:
    """PostgreSQL, Redis, two workers."""
    import sqlalchemy as sa

    url = sa.make_url(options.database_url)
    server = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        exists = connection.scalar(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
        )
        if not exists:
            connection.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
    server.dispose()
    engine = sa.create_engine(options.database_url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    app = make_app(
        options.database_url,
        sink.port,
        CELERY_BROKER_URL=options.broker,
        CELERY_QUEUE=queue,
        SEND_BATCH_SIZE=options.batch,
    )
    campaign_id = seed(app, options.contacts)
    env = {
        **os.environ,
        "SURVEYS_ENV": "development",
        "SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": options.database_url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(sink.port),
        "CELERY_BROKER_URL": options.broker,
        "CELERY_QUEUE": queue,
        "SEND_BATCH_SIZE": str(options.batch),
        "OUTBOX_DIR": str(workdir / "outbox"),
        "PYTHONPATH": str(ROOT),
    }
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "--app",
                "wsgi:celery",
                "worker",
                "--pool",
                options.pool,
                "--concurrency",
                str(options.concurrency),
                "--hostname",
                f"bench{number}@%h",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            stdout=(workdir / f"worker{number}.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        for number in range(options.workers)
    ]
    time.sleep(4)  # the workers connect to the broker
    runner = app.test_cli_runner()
    start = time.perf_counter()
    result = runner.invoke(args=["campaigns", "send", str(campaign_id)])
    if result.exit_code != 0:
        raise RuntimeError(result.output)
    peaks: dict[str, float] = {}
    while True:
        sent = sent_count(app, campaign_id)
        if "5000" not in peaks and sent >= min(5000, options.contacts):
            peaks["5000"] = max(rss_peak_mb(worker.pid) for worker in workers)
        if sent >= options.contacts or errors_of(app, campaign_id) + sent >= options.contacts:
            break
        time.sleep(0.2)
    elapsed = time.perf_counter() - start
    peaks["end"] = max(rss_peak_mb(worker.pid) for worker in workers)
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.wait(timeout=30)
    return {
        "rate": options.contacts / elapsed,
        "peak_rss_mb_5000": round(peaks["5000"], 1),
        "peak_rss_mb_end": round(peaks["end"], 1),
        "errors": errors_of(app, campaign_id),
    }


def run_embedded(options, workdir: Path, sink: Sink) -> dict:
    """SQLite, no broker: `campaigns send` delivers in its own process."""
    database_url = f"sqlite:///{workdir / 'embedded.db'}"
    app = make_app(database_url, sink.port, SEND_BATCH_SIZE=options.batch)
    campaign_id = seed(app, options.contacts)
    runner = app.test_cli_runner()
    start = time.perf_counter()
    result = runner.invoke(args=["campaigns", "send", str(campaign_id)])
    elapsed = time.perf_counter() - start
    if result.exit_code != 0:
        raise RuntimeError(result.output)
    return {"rate": options.contacts / elapsed, "errors": errors_of(app, campaign_id)}


def duplicates(recipients: list[str]) -> int:
    return len(recipients) - len(set(recipients))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--pool", default="prefork", help="Celery's pool of each worker")
    parser.add_argument(
        "--concurrency", type=int, default=4, help="processes (or threads) of each worker"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
        ),
        help="a PostgreSQL database the bench may wipe",
    )
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--keep", type=Path, help="keep the logs and databases here")
    options = parser.parse_args()

    import logging

    logging.disable(logging.WARNING)
    figures: dict[str, object] = {
        "contacts": options.contacts,
        "workers": options.workers,
        "pool": options.pool,
        "concurrency": options.concurrency,
    }
    with tempfile.TemporaryDirectory() as directory:
        workdir = options.keep or Path(directory)
        workdir.mkdir(parents=True, exist_ok=True)
        sink = Sink(workdir, "baseline")
        app = make_app(f"sqlite:///{workdir / 'render.db'}", sink.port)
        messages = prepared_messages(app, options.contacts)
        base_rate = baseline(messages, sink.port)
        base_recipients = sink.stop()
        del messages

        sink = Sink(workdir, "queue")
        queue = run_queue(options, workdir, sink)
        queue_recipients = sink.stop()

        sink = Sink(workdir, "embedded")
        embedded = run_embedded(options, workdir, sink)
        embedded_recipients = sink.stop()

    figures.update(
        baseline_per_s=round(base_rate, 1),
        queue_per_s=round(queue["rate"], 1),
        send_ratio=round(queue["rate"] / base_rate, 3),
        embedded_per_s=round(embedded["rate"], 1),
        embedded_ratio=round(embedded["rate"] / base_rate, 3),
        peak_rss_mb_after_5000=queue["peak_rss_mb_5000"],
        peak_rss_mb_after_all=queue["peak_rss_mb_end"],
        received={
            "baseline": len(base_recipients),
            "queue": len(queue_recipients),
            "embedded": len(embedded_recipients),
        },
        duplicates=duplicates(queue_recipients) + duplicates(embedded_recipients),
        errors=queue["errors"]
        + embedded["errors"]
        + (options.contacts - len(set(queue_recipients)))
        + (options.contacts - len(set(embedded_recipients))),
    )
    print(
        f"baseline {figures['baseline_per_s']}/s, queue {figures['queue_per_s']}/s "
        f"(send_ratio {figures['send_ratio']}, goal >= 0.6), embedded "
        f"{figures['embedded_per_s']}/s; worker peak RSS {figures['peak_rss_mb_after_5000']} MB "
        f"after 5,000, {figures['peak_rss_mb_after_all']} MB after all"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
