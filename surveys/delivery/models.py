from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.campaigns.models import Campaign, Invitation
from surveys.columns import UTCDateTime, one_of, utcnow
from surveys.extensions import db

# What a delivery carries: a campaign's invitation or its one reminder, a staff member's
# test of a campaign's e-mail; and the staff's own mail: a password reset link, the alert
# of a new follow-up, the weekly digest of overdue ones.
CAMPAIGN_KINDS = ("invitation", "reminder", "test")
STAFF_KINDS = ("password_reset", "follow_up_alert", "follow_up_digest")
KINDS = CAMPAIGN_KINDS + STAFF_KINDS
# queued -> sending -> sent. failed: a temporary refusal (4xx, dropped connection,
# timeout), retried while due_at is set, failed for good once it is not. bounced: the
# server refused the recipient for good (5xx). unknown: a sender had handed it to the
# mail server and vanished; it may or may not have gone out. skipped: never tried, for
# the reason given.
STATES = ("queued", "sending", "sent", "failed", "bounced", "unknown", "skipped")
# States a sender may still pick up (when due and not claimed).
PENDING = ("queued", "failed")
REASON_MAX_LENGTH = 1000


class Delivery(db.Model):
    __tablename__ = "deliveries"
    __table_args__ = (
        sa.CheckConstraint(one_of("kind", KINDS), name="kind"),
        sa.CheckConstraint(one_of("state", STATES), name="state"),
        # one invitation e-mail and one reminder per invitation, never two
        sa.UniqueConstraint("invitation_id", "kind"),
        sa.CheckConstraint(
            "(kind IN ('invitation', 'reminder')) = (invitation_id IS NOT NULL)",
            name="invitation_of_invitation_kinds",
        ),
        sa.CheckConstraint(
            "(kind IN ('invitation', 'reminder', 'test')) = (campaign_id IS NOT NULL)",
            name="campaign_of_campaign_kinds",
        ),
        sa.Index("ix_deliveries_pending", "state", "due_at"),
        sa.Index("ix_deliveries_campaign_kind_state", "campaign_id", "kind", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    campaign_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("campaigns.id", ondelete="CASCADE")
    )
    invitation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("invitations.id", ondelete="CASCADE")
    )
    # A test or a staff mail goes to this address (in ``language`` for a test);
    # invitations and reminders go to the contact's current address in their language.
    recipient: Mapped[str | None] = mapped_column(sa.String(254))
    language: Mapped[str | None] = mapped_column(sa.String(2))
    # What a staff mail is about, e.g. {"reset_id": 4} or {"follow_up_id": 9}: its
    # builder reads the rest from the database when it is sent.
    payload: Mapped[dict | None] = mapped_column(sa.JSON)
    state: Mapped[str] = mapped_column(sa.String(8), default="queued")
    # Why it is skipped, failed, bounced or unknown: the mail server's answer or ours.
    reason: Mapped[str | None] = mapped_column(sa.String(REASON_MAX_LENGTH))
    attempts: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    # When a sender may take it (queued now, or a failed one's next retry); None once
    # it needs no more sending.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The sender that holds it and since when: a lease while queued, "sending since"
    # while the sender hands it to the mail server.
    claimed_by: Mapped[str | None] = mapped_column(sa.String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When it was last handed to a mail server (the rate limit counts these).
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    campaign: Mapped[Campaign | None] = relationship()
    invitation: Mapped[Invitation | None] = relationship()

    def __repr__(self) -> str:
        return f"<Delivery {self.id} {self.kind} {self.state}>"
