"""The one dispatcher: claim due deliveries in batches, hand each to the mail server over
one connection per batch, and record what happened to every one.

At most once: a delivery is marked ``sending`` (and committed) just before it is handed
to the mail server and ``sent`` right after, so only the message a sender was handing
over when it died can be in doubt. Claimed rows a sender never began are only leased
(``claimed_at`` + SEND_LEASE_S) and go back to the queue when the lease runs out; a row left in
``sending`` for SENDING_STALE_AFTER_S becomes ``unknown`` (``recover``) and is never
sent again on its own.

Each step commits: the function names say which. Nothing here reads Flask's globals;
the callers pass the session, the settings and the time.
"""

import functools
import hashlib
import hmac
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from surveys.accounts.models import Contact
from surveys.campaigns.models import Campaign, Invitation, Response
from surveys.campaigns.tokens import link_key, new_nonce, token_for, token_hash
from surveys.columns import utcnow
from surveys.delivery.models import CAMPAIGN_KINDS, PENDING, REASON_MAX_LENGTH, Delivery
from surveys.mail.messages import MailSettings, Outgoing, invitation_message
from surveys.mail.transport import (
    Envelope,
    MailServerError,
    RecipientRefusedError,
    SMTPTransport,
)

logger = logging.getLogger(__name__)

RENEW_EVERY = timedelta(seconds=5)
RATE_WINDOW = timedelta(minutes=1)
# Serialises claims across senders on PostgreSQL when a rate limit must hold.
_CLAIM_LOCK = 7_201_826
# The link a test e-mail carries: the answer page says "not found".
TEST_TOKEN = "test-e-mail-link-records-nothing"

_deliveries = Delivery.__table__


@dataclass(frozen=True)
class DispatchSettings:
    mail: MailSettings
    link_key: bytes
    batch_size: int = 100
    rate_per_minute: int = 0
    retry_delays: tuple[int, ...] = (60, 300, 1800, 7200)
    stale_after: timedelta = timedelta(seconds=600)
    # A sender's hold on the rows it claimed and has not begun; renewed while it works,
    # so a dead sender's rows go back to the queue this long after it died.
    lease: timedelta = timedelta(seconds=20)

    @classmethod
    def from_config(cls, config: dict) -> "DispatchSettings":
        return cls(
            mail=MailSettings.from_config(config),
            link_key=link_key(config["SECRET_KEY"]),
            batch_size=int(config["SEND_BATCH_SIZE"]),
            rate_per_minute=int(config["SEND_RATE_PER_MINUTE"]),
            retry_delays=tuple(config["SEND_RETRY_DELAYS"]),
            stale_after=timedelta(seconds=int(config["SENDING_STALE_AFTER_S"])),
            lease=timedelta(seconds=float(config["SEND_LEASE_S"])),
        )


@dataclass
class Outcome:
    """What one sender did: counts per resulting state, and why it stopped early."""

    counts: dict[str, int] = field(default_factory=dict)
    stopped: str | None = None

    def add(self, state: str) -> None:
        self.counts[state] = self.counts.get(state, 0) + 1

    def merge(self, other: "Outcome") -> None:
        for state, count in other.counts.items():
            self.counts[state] = self.counts.get(state, 0) + count
        self.stopped = other.stopped or self.stopped


def sender_name() -> str:
    """Who holds a claim: host and process, which a person can find in `ps`."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def message_id(key: bytes, delivery_id: int) -> str:
    """The same Message-ID (local part) every time a delivery is tried."""
    mark = hmac.new(key, f"delivery:{delivery_id}".encode(), hashlib.sha256).hexdigest()[:12]
    return f"survey.{delivery_id}.{mark}"


def claim_batch(
    session: Session, settings: DispatchSettings, worker: str, now: datetime
) -> list[int]:
    """Take up to a batch of due deliveries for ``worker`` (and within the rate limit);
    commits. Two senders never hold the same row: FOR UPDATE SKIP LOCKED on PostgreSQL,
    SQLite's single writer elsewhere."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    budget = settings.batch_size
    if settings.rate_per_minute:
        if postgresql:
            session.execute(sa.select(sa.func.pg_advisory_xact_lock(_CLAIM_LOCK)))
        budget = min(budget, settings.rate_per_minute - _used_rate(session, settings, now))
        if budget <= 0:
            session.commit()
            return []
    due = (
        sa.select(Delivery.id)
        .where(
            Delivery.state.in_(PENDING),
            Delivery.due_at <= now,
            sa.or_(Delivery.claimed_by.is_(None), Delivery.claimed_at < now - settings.lease),
        )
        .order_by(Delivery.due_at, Delivery.id)
        .limit(budget)
    )
    if postgresql:
        due = due.with_for_update(skip_locked=True)
    claimed = session.scalars(
        sa.update(Delivery)
        .where(Delivery.id.in_(due.scalar_subquery()))
        .values(claimed_by=worker, claimed_at=now)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    ).all()
    session.commit()
    return sorted(claimed)


def _used_rate(session: Session, settings: DispatchSettings, now: datetime) -> int:
    """Deliveries handed to a mail server in the last minute, plus those claimed and about
    to be: what the rate limit has already spent."""
    attempted = sa.select(sa.func.count()).where(Delivery.attempted_at >= now - RATE_WINDOW)
    held = sa.select(sa.func.count()).where(
        Delivery.state.in_(PENDING),
        Delivery.claimed_by.is_not(None),
        Delivery.claimed_at >= now - settings.lease,
    )
    return session.scalar(attempted) + session.scalar(held)


# Everything a delivery needs, read in one query for a whole batch.
_BATCH = (
    sa.select(
        Delivery.id,
        Delivery.kind,
        Delivery.recipient,
        Delivery.language,
        Delivery.attempts,
        Delivery.payload,
        Delivery.invitation_id,
        Invitation.token_nonce,
        Invitation.token_hash,
        Campaign.kind.label("campaign_kind"),
        Campaign.closes_at,
        Contact.id.label("contact_id"),
        Contact.email,
        Contact.name,
        Contact.language.label("contact_language"),
        Contact.unsubscribed_at,
        Contact.undeliverable_at,
        Response.id.label("response_id"),
    )
    .outerjoin(Campaign, Campaign.id == Delivery.campaign_id)
    .outerjoin(Invitation, Invitation.id == Delivery.invitation_id)
    .outerjoin(Contact, Contact.id == Invitation.contact_id)
    .outerjoin(Response, Response.invitation_id == Invitation.id)
)


@dataclass(frozen=True)
class _Campaign:
    kind: str
    closes_at: datetime


@dataclass(frozen=True)
class _Recipient:
    email: str
    name: str | None
    language: str


@functools.cache
def _update_statement(columns: tuple[str, ...]) -> sa.Update:
    """UPDATE deliveries SET <columns> WHERE id = :_id, built once per set of columns: the
    dispatcher runs a few of these for every message."""
    return (
        sa.update(_deliveries)
        .where(_deliveries.c.id == sa.bindparam("_id"))
        .values({column: sa.bindparam(column) for column in columns})
    )


_invitations = Invitation.__table__
_INVITATION_SENT = (
    sa.update(_invitations)
    .where(_invitations.c.id == sa.bindparam("_id"))
    .values(sent_at=sa.bindparam("sent_at"))
)


class _Ledger:
    """The batch's state changes, written with the next commit: a delivery handed to the
    server is recorded ``sent`` in the same commit that marks the next one ``sending``."""

    def __init__(self, session: Session, worker: str):
        self.session = session
        self.worker = worker
        self.pending: list[tuple[int, dict]] = []
        self.invitations_sent: list[tuple[int, datetime]] = []
        self.undeliverable: list[tuple[int, datetime, str]] = []

    def record(self, delivery_id: int, **values: object) -> None:
        self.pending.append((delivery_id, values))

    def commit(self) -> None:
        connection = self.session.connection()
        for delivery_id, values in self.pending:
            connection.execute(
                _update_statement(tuple(sorted(values))), {"_id": delivery_id, **values}
            )
        if self.invitations_sent:
            connection.execute(
                _INVITATION_SENT,
                [
                    {"_id": invitation_id, "sent_at": sent_at}
                    for invitation_id, sent_at in self.invitations_sent
                ],
            )
        for contact_id, moment, reason in self.undeliverable:
            connection.execute(
                sa.update(Contact.__table__)
                .where(Contact.__table__.c.id == contact_id)
                .values(undeliverable_at=moment, undeliverable_reason=reason)
            )
        self.session.commit()
        self.pending.clear()
        self.invitations_sent.clear()
        self.undeliverable.clear()

    def renew(self, ids: list[int], now: datetime) -> None:
        """Keep the claim on the rows not begun yet."""
        if ids:
            self.session.connection().execute(
                sa.update(_deliveries)
                .where(
                    _deliveries.c.id.in_(ids),
                    _deliveries.c.claimed_by == self.worker,
                    _deliveries.c.state.in_(PENDING),
                )
                .values(claimed_at=now)
            )

    def release(self, ids: list[int]) -> None:
        """Give back the rows not begun: the next sender takes them at once."""
        if ids:
            self.session.connection().execute(
                sa.update(_deliveries)
                .where(_deliveries.c.id.in_(ids), _deliveries.c.claimed_by == self.worker)
                .values(claimed_by=None, claimed_at=None)
            )
        self.commit()


def deliver_batch(
    session: Session,
    ids: list[int],
    settings: DispatchSettings,
    worker: str,
    progress: Callable[[str], None] | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Outcome:
    """Send the claimed deliveries ``ids`` over one SMTP connection; commits as it goes.
    ``progress`` is called with each delivery's resulting state."""
    outcome = Outcome()
    rows = session.execute(_BATCH.where(Delivery.id.in_(ids)).order_by(Delivery.id)).all()
    ledger = _Ledger(session, worker)
    renewed = clock()
    with SMTPTransport(settings.mail.smtp) as transport:
        try:
            transport.connect()
        except MailServerError as error:  # nothing was handed over: all go back as they were
            ledger.release(ids)
            outcome.stopped = str(error)
            return outcome
        for index, row in enumerate(rows):
            now = clock()
            if now - renewed > RENEW_EVERY:
                ledger.renew([later.id for later in rows[index:]], now)
                renewed = now
            state = _deliver_one(session, row, settings, transport, ledger, now)
            if state is None:  # the mail server is gone: give back what was not begun
                ledger.release([later.id for later in rows[index + 1 :]])
                outcome.add("failed")
                outcome.stopped = f"the mail server at {settings.mail.smtp} stopped answering"
                break
            outcome.add(state)
            if progress:
                progress(state)
        ledger.commit()
    return outcome


def _deliver_one(
    session: Session,
    row: sa.Row,
    settings: DispatchSettings,
    transport: SMTPTransport,
    ledger: _Ledger,
    now: datetime,
) -> str | None:
    """One delivery's fate; None when the connection is lost and cannot be made again."""
    skipped = _skip_reason(row, now)
    if skipped:
        ledger.record(row.id, state="skipped", reason=skipped, due_at=None, claimed_by=None)
        return "skipped"
    try:
        message, addresses, nonce = _build(session, row, settings)
    except RecipientRefusedError as problem:
        reason = f"invalid address: {problem.reason}"
        ledger.record(row.id, state="skipped", reason=reason, due_at=None, claimed_by=None)
        return "skipped"
    except Exception:  # a bug must cost one message, not every batch after it
        logger.exception("delivery %d: the message could not be built", row.id)
        ledger.record(
            row.id,
            state="failed",
            reason="the message could not be built (see the log)",
            due_at=None,
            claimed_by=None,
        )
        return "failed"
    if nonce is not None:  # an invitation from before links were derived: give it one
        token = token_for(settings.link_key, nonce)
        session.connection().execute(
            sa.update(Invitation.__table__)
            .where(Invitation.__table__.c.id == row.invitation_id)
            .values(token_nonce=nonce, token_hash=token_hash(token))
        )
    attempts = row.attempts + 1
    ledger.record(row.id, state="sending", claimed_at=now, attempted_at=now, attempts=attempts)
    ledger.commit()  # from here on, this one message may be in doubt
    try:
        transport.send(message.data, addresses)
    except RecipientRefusedError as refusal:
        return _refused(row, refusal, attempts, settings, ledger, utcnow())
    except MailServerError as error:
        _retry_or_fail(row.id, str(error), attempts, settings, ledger, utcnow())
        logger.warning("delivery %d not sent: the mail server went away", row.id)
        try:
            transport.connect()
        except MailServerError:
            return None
        return "failed"
    ledger.record(row.id, state="sent", sent_at=now, reason=None, due_at=None, claimed_by=None)
    if row.kind == "invitation":
        ledger.invitations_sent.append((row.invitation_id, now))
    return "sent"


def _refused(
    row: sa.Row,
    refusal: RecipientRefusedError,
    attempts: int,
    settings: DispatchSettings,
    ledger: _Ledger,
    now: datetime,
) -> str:
    reason = refusal.reason[:REASON_MAX_LENGTH]
    logger.warning("delivery %d refused: %s", row.id, refusal.code or "not sendable")
    if refusal.permanent:
        ledger.record(row.id, state="bounced", reason=reason, due_at=None, claimed_by=None)
        if row.contact_id is not None and row.kind != "test":
            ledger.undeliverable.append((row.contact_id, now, reason))
        return "bounced"
    if refusal.code is None:  # nothing this server will ever take (e.g. no SMTPUTF8)
        ledger.record(row.id, state="failed", reason=reason, due_at=None, claimed_by=None)
        return "failed"
    _retry_or_fail(row.id, reason, attempts, settings, ledger, now)
    return "failed"


def _retry_or_fail(
    delivery_id: int,
    reason: str,
    attempts: int,
    settings: DispatchSettings,
    ledger: _Ledger,
    now: datetime,
) -> None:
    """A temporary failure: due again after the next of SEND_RETRY_DELAYS, or failed for
    good once they are used up."""
    delays = settings.retry_delays
    due = now + timedelta(seconds=delays[attempts - 1]) if attempts <= len(delays) else None
    if due is None:
        reason = f"{reason} (gave up after {attempts} attempts)"
    ledger.record(
        delivery_id,
        state="failed",
        reason=reason[:REASON_MAX_LENGTH],
        due_at=due,
        claimed_by=None,
        claimed_at=None,
    )


def _skip_reason(row: sa.Row, now: datetime) -> str | None:
    """Why a delivery must not go after all, checked when it is about to."""
    if row.kind not in ("invitation", "reminder"):
        return None
    if row.unsubscribed_at is not None:
        return "unsubscribed"
    if row.undeliverable_at is not None:
        return "undeliverable"
    if now >= row.closes_at:
        return "campaign closed"
    if row.kind == "reminder" and row.response_id is not None:
        return "answered"
    return None


# Builders of the staff's own mail (password resets, follow-up alerts, digests), by
# delivery kind: each feature registers its own with ``staff_message``.
StaffBuilder = Callable[[Session, sa.Row, DispatchSettings, str], tuple[Outgoing, Envelope]]
_STAFF_BUILDERS: dict[str, StaffBuilder] = {}


def staff_message(kind: str) -> Callable[[StaffBuilder], StaffBuilder]:
    """Register the builder of one kind of staff mail; it gets the session, the delivery's
    row (``recipient``, ``payload``), the settings and the Message-ID's local part."""

    def register(builder: StaffBuilder) -> StaffBuilder:
        _STAFF_BUILDERS[kind] = builder
        return builder

    return register


def _build(session: Session, row: sa.Row, settings: DispatchSettings):
    """The message and envelope, and a new nonce when the invitation has none yet."""
    identifier = message_id(settings.link_key, row.id)
    if row.kind in _STAFF_BUILDERS:
        message, addresses = _STAFF_BUILDERS[row.kind](session, row, settings, identifier)
        return message, addresses, None
    if row.kind not in CAMPAIGN_KINDS:
        raise LookupError(f"nothing builds e-mails of kind {row.kind!r}")
    campaign = _Campaign(row.campaign_kind, row.closes_at)
    if row.kind == "test":
        recipient = _Recipient(row.recipient, None, row.language)
        message, addresses = invitation_message(
            campaign, recipient, TEST_TOKEN, settings.mail, message_id=identifier, test=True
        )
        return message, addresses, None
    nonce = None
    if row.token_nonce is None:
        if row.token_hash is not None:  # its link cannot be made again: nothing to send
            raise RecipientRefusedError("its link predates derived links and cannot be re-sent")
        nonce = new_nonce()
    token = token_for(settings.link_key, row.token_nonce or nonce)
    if nonce is None and token_hash(token) != row.token_hash:
        raise RecipientRefusedError(
            "its link was made with another SECRET_KEY and cannot be made again"
        )
    recipient = _Recipient(row.email, row.name, row.contact_language)
    message, addresses = invitation_message(
        campaign,
        recipient,
        token,
        settings.mail,
        message_id=identifier,
        reminder=row.kind == "reminder",
    )
    return message, addresses, nonce


def drain(
    session: Session,
    settings: DispatchSettings,
    *,
    worker: str | None = None,
    progress: Callable[[str], None] | None = None,
    clock: Callable[[], datetime] = utcnow,
    wait_for_rate: bool = True,
) -> Outcome:
    """Claim and send batch after batch until nothing is due; commits as it goes. Under a
    rate limit it waits for the window to free up rather than stopping."""
    worker = worker or sender_name()
    outcome = Outcome()
    while True:
        now = clock()
        ids = claim_batch(session, settings, worker, now)
        if not ids:
            if settings.rate_per_minute and wait_for_rate and _due_count(session, now):
                time.sleep(1)
                continue
            return outcome
        batch = deliver_batch(session, ids, settings, worker, progress, clock)
        outcome.merge(batch)
        if batch.stopped:
            return outcome


def _due_count(session: Session, now: datetime) -> int:
    return session.scalar(
        sa.select(sa.func.count()).where(Delivery.state.in_(PENDING), Delivery.due_at <= now)
    )


def recover(session: Session, settings: DispatchSettings, now: datetime) -> int:
    """A row left in ``sending`` longer than ``stale_after`` becomes ``unknown``: its
    sender died while handing it over, so it may or may not have gone out, and it is
    never sent again on its own. Returns how many; commits."""
    stale = session.execute(
        sa.update(Delivery)
        .where(Delivery.state == "sending", Delivery.claimed_at < now - settings.stale_after)
        .values(
            state="unknown",
            reason="a sender was handing it to the mail server and stopped; it may or may "
            "not have gone out",
            claimed_by=None,
            due_at=None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    if stale:
        logger.warning("%d deliveries in doubt, marked unknown", stale)
    return stale
