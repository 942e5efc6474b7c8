"""Webhooks after the Standard Webhooks specification: each event is a row per endpoint,
written in the transaction that causes it, then POSTed with ``webhook-id``,
``webhook-timestamp`` and ``webhook-signature: v1,<base64 HMAC-SHA256>``, and retried
after each of WEBHOOK_RETRY_DELAYS until the receiver answers 2xx.

Delivery is at least once (a receiver that answered but whose answer was lost gets the
message again, with the same ``webhook-id``): receivers drop repeats by that id.
"""

import base64
import json
import logging
import secrets
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from surveys.webhooks.models import EVENTS, WebhookEndpoint, WebhookMessage

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5
URL_MAX_LENGTH = 2000
BATCH = 50
# A message left "sending" this long (its sender died) is tried again.
STALE_SENDING = timedelta(minutes=2)
ERROR_MAX_LENGTH = 500


class WebhookError(Exception):
    """A webhook request that cannot be done; the message says why."""


@dataclass(frozen=True)
class Answer:
    """What a receiver answered: a status, or why there was none."""

    status: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def check_url(url: str) -> str:
    url = (url or "").strip()
    if any(ord(character) < 33 or ord(character) == 127 for character in url):
        raise WebhookError("the URL contains a space, a line break or a control character")
    if len(url) > URL_MAX_LENGTH:
        raise WebhookError(f"the URL is longer than {URL_MAX_LENGTH} characters")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookError("the URL must start with https:// (or http://) and name a host")
    if parts.username or parts.password:
        raise WebhookError("the URL must not hold a user name or password")
    return url


def check_events(events: list[str]) -> list[str]:
    chosen = list(dict.fromkeys(event.strip() for event in events if event.strip()))
    if not chosen:
        raise WebhookError(f"name at least one event: {', '.join(EVENTS)}")
    unknown = [event for event in chosen if event not in EVENTS]
    if unknown:
        raise WebhookError(
            f"unknown event {', '.join(unknown)}; the events are {', '.join(EVENTS)}"
        )
    return chosen


def add_endpoint(
    session: Session, *, url: str, events: list[str], now: datetime
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (``whsec_`` + base64), to be shown once. Flushes."""
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    endpoint = WebhookEndpoint(
        url=check_url(url),
        secret=secret,
        events=check_events(events),
        active=True,
        created_at=now,
    )
    session.add(endpoint)
    session.flush()
    return endpoint, secret


def deactivate_endpoint(session: Session, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise WebhookError(f"there is no webhook {endpoint_id}")
    endpoint.active = False
    session.execute(
        sa.update(WebhookMessage)
        .where(
            WebhookMessage.endpoint_id == endpoint_id,
            WebhookMessage.state.in_(("queued", "failed")),
        )
        .values(due_at=None)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return endpoint


def emit(session: Session, event: str, data: dict | Callable[[], dict], now: datetime) -> int:
    """Write ``event`` for every active endpoint that asked for it; returns how many.
    ``data`` may be a function, called only when some endpoint wants the event (the
    answer page pays nothing more when there is no webhook). Flushes; the caller's
    transaction commits it with the change it reports."""
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    endpoints = [
        endpoint
        for endpoint in session.scalars(sa.select(WebhookEndpoint).where(WebhookEndpoint.active))
        if event in (endpoint.events or [])
    ]
    if not endpoints:
        return 0
    if callable(data):
        data = data()
    body = json.dumps(
        {"type": event, "timestamp": now.isoformat(), "data": data},
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    session.execute(
        sa.insert(WebhookMessage),
        [
            {
                "endpoint_id": endpoint.id,
                "event": event,
                "msg_id": "msg_" + secrets.token_urlsafe(18),
                "body": body,
                "state": "queued",
                "attempts": 0,
                "due_at": now,
                "created_at": now,
            }
            for endpoint in endpoints
        ],
    )
    return len(endpoints)


def signed_headers(secret: str, msg_id: str, body: str, now: datetime) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": "surveys-webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, now, body),
    }


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not an instruction: a webhook is POSTed where it was set."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post(url: str, body: str, headers: dict[str, str]) -> Answer:
    """POST the body; the receiver has TIMEOUT_SECONDS for the whole answer."""
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return Answer(response.status)
    except urllib.error.HTTPError as error:
        return Answer(error.code, f"{error.code} {error.reason}")
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return Answer(None, f"no answer: {reason}"[:ERROR_MAX_LENGTH])


def claim(session: Session, worker: str, now: datetime, limit: int = BATCH) -> list[int]:
    """Take due messages for this sender (SKIP LOCKED on PostgreSQL); commits."""
    due = (
        sa.select(WebhookMessage.id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookMessage.endpoint_id)
        .where(
            WebhookMessage.state.in_(("queued", "failed")),
            WebhookMessage.due_at <= now,
            WebhookEndpoint.active,
        )
        .order_by(WebhookMessage.due_at, WebhookMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed = session.scalars(
        sa.update(WebhookMessage)
        .where(WebhookMessage.id.in_(due.scalar_subquery()))
        .values(state="sending", claimed_by=worker, claimed_at=now)
        .returning(WebhookMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    session.commit()
    return sorted(claimed)


def deliver_due(
    session: Session,
    *,
    retry_delays: list[int],
    worker: str,
    clock: Callable[[], datetime],
    send: Callable[[str, str, dict[str, str]], Answer] = post,
) -> dict[str, int]:
    """POST every due message, batch after batch; commits after each one. Returns the
    counts of what happened."""
    counts = {"sent": 0, "failed": 0}
    while True:
        ids = claim(session, worker, clock())
        if not ids:
            return counts
        for message in session.scalars(
            sa.select(WebhookMessage).where(WebhookMessage.id.in_(ids)).order_by(WebhookMessage.id)
        ):
            now = clock()
            answer = send(
                message.endpoint.url,
                message.body,
                signed_headers(message.endpoint.secret, message.msg_id, message.body, now),
            )
            now = clock()  # retries count from the answer, however long it took
            message.attempts += 1
            message.last_status = answer.status
            message.claimed_by = None
            if answer.ok:
                message.state, message.sent_at, message.due_at = "sent", now, None
                message.last_error = None
                counts["sent"] += 1
            else:
                message.state = "failed"
                message.last_error = (answer.error or f"{answer.status}")[:ERROR_MAX_LENGTH]
                delays = retry_delays
                message.due_at = (
                    now + timedelta(seconds=delays[message.attempts - 1])
                    if message.attempts <= len(delays)
                    else None
                )
                counts["failed"] += 1
                logger.warning(
                    "webhook message %d to endpoint %d: %s (attempt %d)",
                    message.id,
                    message.endpoint_id,
                    answer.status or "no answer",
                    message.attempts,
                )
            session.commit()


def recover(session: Session, now: datetime) -> int:
    """Messages whose sender died mid-request go back to the queue; commits."""
    count = session.execute(
        sa.update(WebhookMessage)
        .where(WebhookMessage.state == "sending", WebhookMessage.claimed_at < now - STALE_SENDING)
        .values(state="queued", claimed_by=None, due_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    return count


def due_count(session: Session, now: datetime) -> int:
    return session.scalar(
        sa.select(sa.func.count()).where(
            WebhookMessage.state.in_(("queued", "failed")), WebhookMessage.due_at <= now
        )
    )


def recent_messages(session: Session, limit: int = 100) -> list[WebhookMessage]:
    return list(
        session.scalars(sa.select(WebhookMessage).order_by(WebhookMessage.id.desc()).limit(limit))
    )


def endpoints(session: Session) -> list[WebhookEndpoint]:
    return list(
        session.scalars(
            sa.select(WebhookEndpoint).order_by(WebhookEndpoint.active.desc(), WebhookEndpoint.id)
        )
    )


# --- What each event says ------------------------------------------------------------------


def answer_data(session: Session, response_id: int) -> dict:
    """An answer as an ``answer.created`` event carries it."""
    from surveys.accounts.models import Account, Contact
    from surveys.campaigns.models import Campaign, Invitation, Response, ResponseReason

    row = session.execute(
        sa.select(
            Response.id,
            Response.answered_at,
            Response.score,
            Response.reason,
            Response.comment,
            Response.felt_prioritised,
            Response.manager_contact,
            Campaign.id,
            Campaign.kind,
            Contact.id,
            Contact.role,
            Contact.language,
            Account.external_id,
            Account.name,
        )
        .join(Invitation, Invitation.id == Response.invitation_id)
        .join(Campaign, Campaign.id == Invitation.campaign_id)
        .join(Contact, Contact.id == Invitation.contact_id)
        .join(Account, Account.id == Contact.account_id)
        .where(Response.id == response_id)
    ).one()
    found = session.scalars(
        sa.select(ResponseReason.reason).where(
            ResponseReason.response_id == response_id, ResponseReason.found
        )
    ).all()
    return {
        "answer_id": row[0],
        "answered_at": row[1].isoformat(),
        "score": row[2],
        "reason": row[3],
        "comment": row[4],
        "felt_prioritised": row[5],
        "manager_contact": row[6],
        "reasons_found": list(found),
        "campaign": {"id": row[7], "kind": row[8]},
        "contact": {"id": row[9], "role": row[10], "language": row[11]},
        "account": {"account_id": row[12], "name": row[13]},
    }


def follow_up_data(session: Session, follow_up_id: int) -> dict:
    """A follow-up as a ``follow_up.created`` event carries it."""
    from surveys.accounts.models import Account
    from surveys.auth.models import User
    from surveys.followups.models import FollowUp

    row = session.execute(
        sa.select(
            FollowUp.id,
            FollowUp.kind,
            FollowUp.score,
            FollowUp.state,
            FollowUp.opened_at,
            FollowUp.due_at,
            FollowUp.response_id,
            Account.external_id,
            Account.name,
            User.email,
        )
        .join(Account, Account.id == FollowUp.account_id)
        .outerjoin(User, User.id == FollowUp.assignee_id)
        .where(FollowUp.id == follow_up_id)
    ).one()
    return {
        "follow_up_id": row[0],
        "kind": row[1],
        "score": row[2],
        "state": row[3],
        "opened_at": row[4].isoformat(),
        "due_at": row[5].isoformat(),
        "answer_id": row[6],
        "account": {"account_id": row[7], "name": row[8]},
        "assignee": row[9],
    }
