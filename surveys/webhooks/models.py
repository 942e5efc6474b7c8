from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.columns import UTCDateTime, one_of, utcnow
from surveys.extensions import db

EVENTS = ("answer.created", "follow_up.created")
# queued -> sending -> sent; failed while retries remain (due_at set), then failed for
# good. A message is "sending" only while one request is in flight.
MESSAGE_STATES = ("queued", "sending", "sent", "failed")


class WebhookEndpoint(db.Model):
    """A URL an admin set to receive events, signed with its own secret (Standard
    Webhooks). The secret is shown once when the endpoint is made; it is kept because
    every message is signed with it."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(sa.String(2000))
    secret: Mapped[str] = mapped_column(sa.String(100))
    events: Mapped[list[str]] = mapped_column(sa.JSON)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookMessage(db.Model):
    """One event for one endpoint: written with the change that caused it, then POSTed
    (and retried) by the queue. Its ``msg_id`` is the same on every attempt, so the
    receiver can drop a repeat."""

    __tablename__ = "webhook_messages"
    __table_args__ = (
        sa.CheckConstraint(one_of("state", MESSAGE_STATES), name="state"),
        sa.CheckConstraint(one_of("event", EVENTS), name="event"),
        sa.Index("ix_webhook_messages_pending", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(sa.String(40))
    msg_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The exact body sent: it is what the signature covers.
    body: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[str] = mapped_column(sa.String(8), default="queued")
    attempts: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The receiver's last answer: an HTTP status, or what went wrong on the way.
    last_status: Mapped[int | None] = mapped_column(sa.SmallInteger)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    endpoint: Mapped[WebhookEndpoint] = relationship()
