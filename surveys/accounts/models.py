from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.columns import UTCDateTime, one_of, utcnow
from surveys.extensions import db
from surveys.reasons.nlp.labels import LANGUAGES

if TYPE_CHECKING:
    from surveys.auth.models import User

ROLES = ("decision_maker", "influencer", "user")
ACCOUNT_STATUSES = ("active", "churned")
# A staff note (on a touch, on a follow-up step): a few paragraphs, not a file.
NOTE_MAX_LENGTH = 2000


class Account(db.Model):
    __tablename__ = "accounts"
    __table_args__ = (sa.CheckConstraint(one_of("status", ACCOUNT_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The supplier's own id for the account, the key of every import.
    external_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    account_manager_email: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    segment: Mapped[str | None] = mapped_column(sa.String(100))
    annual_revenue: Mapped[Decimal | None] = mapped_column(sa.Numeric(16, 2))
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    churned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The day the company became a customer (the first contract), as the supplier's own
    # records say; retention counts an account from it (from created_at when unknown).
    customer_since: Mapped[date | None] = mapped_column(sa.Date)
    last_contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    contacts: Mapped[list["Contact"]] = relationship(
        back_populates="account", cascade="all, delete-orphan", order_by="Contact.email"
    )

    def __repr__(self) -> str:
        return f"<Account {self.id} {self.external_id!r}>"


class Contact(db.Model):
    __tablename__ = "contacts"
    __table_args__ = (
        sa.UniqueConstraint("account_id", "email"),
        sa.CheckConstraint(one_of("role", ROLES), name="role"),
        sa.CheckConstraint(one_of("language", LANGUAGES), name="language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"))
    # Stored normalised: trimmed and lower case.
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    name: Mapped[str | None] = mapped_column(sa.String(200))
    role: Mapped[str | None] = mapped_column(sa.String(20))
    language: Mapped[str] = mapped_column(sa.String(2), default="en")
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The mail server refused this address for good (a 5xx): it is not mailed again.
    undeliverable_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undeliverable_reason: Mapped[str | None] = mapped_column(sa.String(1000))
    # The person asked to be forgotten: name, address and free texts are gone.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    account: Mapped[Account] = relationship(back_populates="contacts")

    def __repr__(self) -> str:
        return f"<Contact {self.id} of account {self.account_id}>"


class Suppression(db.Model):
    """An address that asked never to be mailed again. Kept as a hash so that it outlives
    the contact (an erased or re-imported contact stays unsubscribed)."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AccountTouch(db.Model):
    """A contact with the account by its manager ("Contacted today"), with their note: what
    moves ``Account.last_contacted_at``."""

    __tablename__ = "account_touches"
    __table_args__ = (sa.CheckConstraint(f"length(note) <= {NOTE_MAX_LENGTH}", name="note_length"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(sa.Text)

    user: Mapped["User | None"] = relationship()
