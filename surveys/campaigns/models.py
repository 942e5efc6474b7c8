from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.accounts.models import Contact
from surveys.columns import UTCDateTime, one_of, utcnow
from surveys.extensions import db

SURVEY_KINDS = ("nps", "exit")
REASONS = ("price", "attention", "product", "other")
COMMENT_MAX_LENGTH = 5000


class Campaign(db.Model):
    __tablename__ = "campaigns"
    __table_args__ = (
        sa.CheckConstraint(one_of("kind", SURVEY_KINDS), name="kind"),
        sa.CheckConstraint("closes_at > created_at", name="closes_after_creation"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(8))
    name: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)

    invitations: Mapped[list["Invitation"]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", passive_deletes=True
    )

    def is_open(self, now: datetime) -> bool:
        return now < self.closes_at

    def __repr__(self) -> str:
        return f"<Campaign {self.id} {self.kind}>"


class Invitation(db.Model):
    """One contact in one campaign. The personal token is stored only as its SHA-256; it is
    made when the e-mail goes out, so an invitation that was never sent has none."""

    __tablename__ = "invitations"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    # Set when a sender takes the invitation, so that two senders never mail it twice.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    campaign: Mapped[Campaign] = relationship(back_populates="invitations")
    contact: Mapped[Contact] = relationship()
    response: Mapped["Response | None"] = relationship(
        back_populates="invitation", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<Invitation {self.id} campaign {self.campaign_id} contact {self.contact_id}>"


class Response(db.Model):
    """What a contact answered through an invitation; answering again replaces it."""

    __tablename__ = "responses"
    __table_args__ = (
        sa.CheckConstraint("score BETWEEN 0 AND 10", name="score_range"),
        sa.CheckConstraint(one_of("reason", REASONS), name="reason"),
        sa.CheckConstraint(f"length(comment) <= {COMMENT_MAX_LENGTH}", name="comment_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invitations.id", ondelete="CASCADE"), unique=True
    )
    score: Mapped[int | None] = mapped_column(sa.SmallInteger)
    reason: Mapped[str | None] = mapped_column(sa.String(16))
    comment: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the answer was last given; reports window on it.
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    invitation: Mapped[Invitation] = relationship(back_populates="response")

    def __repr__(self) -> str:
        return f"<Response {self.id} to invitation {self.invitation_id}>"
