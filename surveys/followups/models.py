from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.accounts.models import NOTE_MAX_LENGTH, Account
from surveys.auth.models import User
from surveys.campaigns.models import SURVEY_KINDS, Response
from surveys.columns import UTCDateTime, one_of, utcnow
from surveys.extensions import db

# open -> contacted -> resolved. "contacted" may be recorded again (another call, with its
# note); nothing follows "resolved".
FOLLOW_UP_STATES = ("open", "contacted", "resolved")
STEPS = ("contacted", "resolved")


class FollowUp(db.Model):
    """A close-the-loop task on one detractor or exit answer: one per response (and so per
    invitation), however often the contact answers again."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        sa.UniqueConstraint("response_id"),
        sa.CheckConstraint(one_of("state", FOLLOW_UP_STATES), name="state"),
        sa.CheckConstraint(one_of("kind", SURVEY_KINDS), name="kind"),
        sa.CheckConstraint("score BETWEEN 0 AND 10", name="score_range"),
        # a follow-up leaves "open" by its first contact, and is resolved only after one
        sa.CheckConstraint(
            "(state = 'open') = (contacted_at IS NULL)", name="contacted_unless_open"
        ),
        sa.CheckConstraint(
            "(state = 'resolved') = (resolved_at IS NOT NULL)", name="resolved_at_when_resolved"
        ),
        sa.CheckConstraint("due_at >= opened_at", name="due_after_opening"),
        sa.Index("ix_follow_ups_state_due_at", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(sa.ForeignKey("responses.id", ondelete="CASCADE"))
    # The contact's account (a contact never changes account): what scopes the follow-up.
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    # Who must act: the account's manager when they are a user, else a CX user (or an
    # admin), chosen when it opened and kept whatever happens to the users later. None
    # only when there was no active user at all.
    assignee_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # The survey answered (nps: a detractor; exit: any exit answer) and the score the
    # follow-up is for (a detractor answering again with another 0-6 changes it).
    kind: Mapped[str] = mapped_column(sa.String(8))
    score: Mapped[int | None] = mapped_column(sa.SmallInteger)
    state: Mapped[str] = mapped_column(sa.String(10), default="open")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # First contact is due by then; an open follow-up past it is overdue.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The first contact (time to first contact is measured to it) and the resolution.
    contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    response: Mapped[Response] = relationship()
    account: Mapped[Account] = relationship()
    assignee: Mapped[User | None] = relationship()
    steps: Mapped[list["FollowUpStep"]] = relationship(
        back_populates="follow_up",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="FollowUpStep.id",
    )

    def is_overdue(self, now: datetime) -> bool:
        return self.state == "open" and self.due_at <= now

    def __repr__(self) -> str:
        return f"<FollowUp {self.id} {self.state}>"


class FollowUpStep(db.Model):
    """One step of a follow-up (contacted, resolved), who took it and their note."""

    __tablename__ = "follow_up_steps"
    __table_args__ = (
        sa.CheckConstraint(one_of("step", STEPS), name="step"),
        sa.CheckConstraint(f"length(note) <= {NOTE_MAX_LENGTH}", name="note_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(
        sa.ForeignKey("follow_ups.id", ondelete="CASCADE"), index=True
    )
    step: Mapped[str] = mapped_column(sa.String(10))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(sa.Text)

    follow_up: Mapped[FollowUp] = relationship(back_populates="steps")
    user: Mapped[User | None] = relationship()


class FollowUpDigest(db.Model):
    """The weekly digest of overdue follow-ups queued for one user: at most one a week
    (ISO week, e.g. "2026-W49"), whoever runs the command and how often."""

    __tablename__ = "follow_up_digests"
    __table_args__ = (sa.UniqueConstraint("user_id", "week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    week: Mapped[str] = mapped_column(sa.String(8))
    follow_ups: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
