from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.columns import UTCDateTime, one_of, utcnow
from surveys.extensions import db

# admin: everything, users and settings. cx: every account and report. account_manager:
# the accounts whose account_manager_email is theirs, and nothing else.
USER_ROLES = ("admin", "cx", "account_manager")


class User(db.Model):
    """A member of the supplier's staff who logs in."""

    __tablename__ = "users"
    __table_args__ = (sa.CheckConstraint(one_of("role", USER_ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored normalised (trimmed, lower case); an account manager's is the one the
    # accounts CSV names in account_manager_email.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    role: Mapped[str] = mapped_column(sa.String(16))
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    # Part of the session's identity: raised when the password changes or the user is
    # deactivated, which ends every session and remember-me cookie made before.
    session_version: Mapped[int] = mapped_column(sa.Integer, default=1)
    # Two-factor sign-in: the shared secret of the authenticator app, once confirmed.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last time step a code was accepted for, so no code works twice.
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # What Flask-Login asks of a user object.
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class PasswordReset(db.Model):
    """A single-use link to choose a new password; only its token's hash is kept."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The link is made from this and a key the database does not hold (as survey links).
    nonce: Mapped[str] = mapped_column(sa.String(32))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class AuditEvent(db.Model):
    """Who did what, when: logins, failed logins, role changes, password resets,
    exports and erasures. Never a password, token or answer."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Who: the user, or for a failed login the address typed (kept as typed, cut short).
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(sa.String(254))
    action: Mapped[str] = mapped_column(sa.String(40), index=True)
    # What it was done to, in words a person reads ("user 3", "contact 17", "campaign 2").
    target: Mapped[str | None] = mapped_column(sa.String(200))
    detail: Mapped[str | None] = mapped_column(sa.String(500))
    # The address the request came from.
    address: Mapped[str | None] = mapped_column(sa.String(64))


class ApiToken(db.Model):
    """A user's key to the JSON API, sent as ``Authorization: Bearer TOKEN``. Only the
    token's SHA-256 is kept (the token is shown once, when made); ``prefix`` is its first
    characters, for telling tokens apart. A request with it acts as its user, with the
    user's role and scope at the time of the request."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} of user {self.user_id}>"
