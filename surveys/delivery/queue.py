"""Running the dispatcher: on Celery workers when a broker is set (``CELERY_BROKER_URL``,
or ``REDIS_URL``), otherwise in the process that queued the work, right after its
commit. Views and commands call ``kick`` after they commit rows to deliver.

    celery --app wsgi:celery worker     # delivers
    celery --app wsgi:celery beat       # runs `campaigns tick` every minute and
                                        # `followups digest` on Monday mornings
"""

import logging
import math
import threading

from celery import Celery, Task, shared_task
from celery.schedules import crontab
from flask import Flask, current_app

from surveys.extensions import db

logger = logging.getLogger(__name__)

TICK_EVERY_SECONDS = 60.0
# The weekly digest of overdue follow-ups: Mondays at 07:00 UTC (08:00 or 09:00 in the
# Nordics), before the week's calls are planned.
DIGEST_SCHEDULE = crontab(minute=0, hour=7, day_of_week="mon")
# At most this many dispatch tasks for one kick: each drains until nothing is due, so a
# few are enough to keep every worker process busy.
MAX_PARALLEL_DISPATCH = 16

_background: list[threading.Thread] = []


class BrokerUnavailableError(Exception):
    """The broker refused the task; the rows are queued and a later kick sends them."""


def broker_url(config: dict) -> str | None:
    return config.get("CELERY_BROKER_URL") or config.get("REDIS_URL") or None


def init_app(app: Flask) -> Celery:
    """The Celery application of this Flask app: tasks run inside its app context."""

    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.import_name, task_cls=FlaskTask)
    celery.conf.update(
        broker_url=broker_url(app.config) or "memory://",
        task_default_queue=app.config["CELERY_QUEUE"],
        task_ignore_result=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=5,
        beat_schedule={
            "tick": {"task": "surveys.tick", "schedule": TICK_EVERY_SECONDS},
            "follow-up digest": {"task": "surveys.follow_up_digest", "schedule": DIGEST_SCHEDULE},
        },
        timezone="UTC",
    )
    celery.set_default()
    app.extensions["celery"] = celery
    return celery


@shared_task(name="surveys.dispatch")
def dispatch() -> dict[str, int]:
    """Send everything that is due, batch after batch."""
    from surveys.delivery.dispatcher import DispatchSettings, drain

    outcome = drain(db.session, DispatchSettings.from_config(current_app.config))
    return outcome.counts


@shared_task(name="surveys.tick")
def tick() -> None:
    """What `flask campaigns tick` does, every minute under beat."""
    from surveys.campaigns.services import run_tick
    from surveys.delivery.dispatcher import DispatchSettings

    config = current_app.config
    result = run_tick(
        db.session,
        settings=DispatchSettings.from_config(config),
        retention_days=config["FREE_TEXT_RETENTION_DAYS"],
    )
    if result.due:
        kick(result.due)
    if result.webhooks_due:
        kick_webhooks()


@shared_task(name="surveys.webhooks")
def send_webhooks() -> dict[str, int]:
    """POST every due webhook message."""
    from surveys.columns import utcnow
    from surveys.delivery.dispatcher import sender_name
    from surveys.webhooks.services import deliver_due

    return deliver_due(
        db.session,
        retry_delays=current_app.config["WEBHOOK_RETRY_DELAYS"],
        worker=sender_name(),
        clock=utcnow,
    )


def kick_webhooks(*, in_background: bool = False) -> None:
    """Have the due webhooks sent, as ``kick`` has e-mails sent."""
    app = current_app._get_current_object()
    if broker_url(app.config):
        try:
            send_webhooks.apply_async(retry=False)
        except Exception as error:
            raise BrokerUnavailableError(
                f"the broker at {_safe_url(broker_url(app.config))} refused the work ({error}); "
                "the webhooks stay queued"
            ) from None
        return
    if in_background:
        thread = threading.Thread(target=_webhooks_in, args=(app,), name="webhooks", daemon=True)
        _background.append(thread)
        thread.start()
        return
    send_webhooks.run()


def _webhooks_in(app: Flask) -> None:
    with app.app_context():
        try:
            send_webhooks.run()
        except Exception:
            logger.exception("webhooks in the background stopped")


@shared_task(name="surveys.follow_up_digest")
def follow_up_digest() -> None:
    """What `flask followups digest` does, on Monday mornings under beat."""
    from surveys.columns import utcnow
    from surveys.followups.services import queue_digests

    result = queue_digests(db.session, now=utcnow())
    db.session.commit()
    if result.queued:
        kick(result.queued)


def kick(due: int = 1, *, in_background: bool = False) -> None:
    """Have the due deliveries sent: by workers when there is a broker; otherwise here,
    now (a command) or in a thread after the request has answered (a web request)."""
    app = current_app._get_current_object()
    if broker_url(app.config):
        tasks = min(MAX_PARALLEL_DISPATCH, max(1, math.ceil(due / app.config["SEND_BATCH_SIZE"])))
        try:
            for _ in range(tasks):
                dispatch.apply_async(retry=False)
        except Exception as error:  # kombu raises several kinds; all mean "not queued"
            raise BrokerUnavailableError(
                f"the broker at {_safe_url(broker_url(app.config))} refused the work ({error}); "
                "the e-mails stay queued and go when a worker can be reached "
                "(`flask campaigns tick` queues them again)"
            ) from None
        return
    if in_background:
        thread = threading.Thread(target=_drain_in, args=(app,), name="dispatch", daemon=True)
        _background.append(thread)
        thread.start()
        return
    dispatch.run()


def _drain_in(app: Flask) -> None:
    from surveys.delivery.dispatcher import DispatchSettings, drain

    with app.app_context():
        try:
            drain(db.session, DispatchSettings.from_config(app.config))
        except Exception:
            logger.exception("delivery in the background stopped")


def wait_for_background(timeout: float = 60) -> None:
    """Join the in-process senders that web requests started (tests, shutdown)."""
    while _background:
        _background.pop().join(timeout)


def _safe_url(url: str | None) -> str:
    """The broker's URL without its password."""
    if not url or "@" not in url:
        return url or ""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.rpartition('@')[2]}"
