from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.accounts.models import Account, Contact
from surveys.columns import UTCDateTime, one_of, utcnow
from surveys.extensions import db
from surveys.reasons.nlp.labels import REASONS

SURVEY_KINDS = ("nps", "exit")
COMMENT_MAX_LENGTH = 5000
# "How often did your account manager contact you in the last six months?"
MANAGER_CONTACT = ("never", "once", "several")

# The accounts an exit campaign asks; an NPS campaign asks every active account.
campaign_accounts = sa.Table(
    "campaign_accounts",
    db.metadata,
    sa.Column("campaign_id", sa.ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("account_id", sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
)


class Campaign(db.Model):
    __tablename__ = "campaigns"
    __table_args__ = (
        sa.CheckConstraint(one_of("kind", SURVEY_KINDS), name="kind"),
        sa.CheckConstraint("closes_at > created_at", name="closes_after_creation"),
        sa.CheckConstraint("remind_after_days >= 0", name="remind_after_days"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(8))
    name: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Days after its invitation that a contact who has not answered is reminded, once;
    # None: no reminder.
    remind_after_days: Mapped[int | None] = mapped_column(sa.SmallInteger)

    invitations: Mapped[list["Invitation"]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", passive_deletes=True
    )
    accounts: Mapped[list[Account]] = relationship(secondary=campaign_accounts)

    def is_open(self, now: datetime) -> bool:
        return now < self.closes_at

    def __repr__(self) -> str:
        return f"<Campaign {self.id} {self.kind}>"


class Invitation(db.Model):
    """One contact in one campaign. Its personal token is never stored: only the nonce it
    is made from (with a key the database does not hold) and the token's SHA-256, which
    the answer page looks it up by. What happened to its e-mails is in ``deliveries``."""

    __tablename__ = "invitations"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    # None for invitations made before links were derived (they get no reminder).
    token_nonce: Mapped[str | None] = mapped_column(sa.String(32))
    # When its invitation e-mail went out.
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
        sa.CheckConstraint("felt_prioritised BETWEEN 1 AND 5", name="felt_prioritised_range"),
        sa.CheckConstraint(one_of("manager_contact", MANAGER_CONTACT), name="manager_contact"),
        sa.CheckConstraint(one_of("text_reason", REASONS), name="text_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invitations.id", ondelete="CASCADE"), unique=True
    )
    # NPS: how likely to recommend us; exit: how likely to come back. 0-10.
    score: Mapped[int | None] = mapped_column(sa.SmallInteger)
    # The main reason the contact picked.
    reason: Mapped[str | None] = mapped_column(sa.String(16))
    comment: Mapped[str | None] = mapped_column(sa.Text)
    # Exit survey: "we felt prioritised by you", 1-5, and the account manager's contact.
    felt_prioritised: Mapped[int | None] = mapped_column(sa.SmallInteger)
    manager_contact: Mapped[str | None] = mapped_column(sa.String(8))
    # What the classifier read in the comment: its language, top reason and, for
    # English, TextBlob's polarity and subjectivity; every reason's score is a
    # ResponseReason row.
    text_language: Mapped[str | None] = mapped_column(sa.String(2))
    text_reason: Mapped[str | None] = mapped_column(sa.String(16))
    polarity: Mapped[float | None] = mapped_column(sa.Float)
    subjectivity: Mapped[float | None] = mapped_column(sa.Float)
    classified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    classifier_version: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the answer was last given; reports window on it.
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    invitation: Mapped[Invitation] = relationship(back_populates="response")
    text_reasons: Mapped[list["ResponseReason"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="ResponseReason.score.desc()"
    )

    def __repr__(self) -> str:
        return f"<Response {self.id} to invitation {self.invitation_id}>"


class ResponseReason(db.Model):
    """The classifier's score for one reason in a response's comment; ``found`` when it
    is over the classifier's threshold, with the words that decided it (``evidence``), and
    the words that only named it and set it aside (``set_aside``: "no complaints about
    support", "the price was fine, but ...")."""

    __tablename__ = "response_reasons"
    __table_args__ = (sa.CheckConstraint(one_of("reason", REASONS), name="reason"),)

    response_id: Mapped[int] = mapped_column(
        sa.ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True
    )
    reason: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    score: Mapped[float] = mapped_column(sa.Float)
    found: Mapped[bool] = mapped_column(sa.Boolean, index=True)
    evidence: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    set_aside: Mapped[list[str]] = mapped_column(
        sa.JSON, default=list, server_default=sa.text("'[]'")
    )
