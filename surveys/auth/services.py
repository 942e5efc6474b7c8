"""Staff users: passwords (argon2), roles, two-factor codes, password resets and the audit
log. Plain functions on the session; they flush, the boundary commits."""

import logging
import secrets
from datetime import datetime, timedelta

import pyotp
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from surveys.accounts.addresses import InvalidAddressError, normalise_address
from surveys.auth.models import USER_ROLES, AuditEvent, PasswordReset, User
from surveys.campaigns.tokens import new_nonce, token_for, token_hash

logger = logging.getLogger(__name__)

PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 256
GENERATED_PASSWORD_BYTES = 15  # 20 characters of base64
RESET_VALID_FOR = timedelta(hours=1)
TOTP_ISSUER = "Surveys"

_hasher = PasswordHasher()
# Verified against when the address is unknown, so a wrong address costs as long as a
# wrong password and the answer time gives nothing away.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class UserError(Exception):
    """A user request that cannot be done; the message says why."""


def normalise_email(value: str) -> str:
    """The address as stored (as the contacts import stores account managers'), or
    UserError saying what is wrong with it."""
    text = (value or "").strip()
    if any(ord(character) < 32 or 127 <= ord(character) < 160 for character in text):
        raise UserError("the address contains a line break or another control character")
    try:
        return normalise_address(text)
    except InvalidAddressError as error:
        raise UserError(f"{text[:80]!r} is not a valid e-mail address ({error})") from None


def check_password(password: str) -> None:
    if len(password) < PASSWORD_MIN_LENGTH:
        raise UserError(f"the password must have at least {PASSWORD_MIN_LENGTH} characters")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise UserError(f"the password must have at most {PASSWORD_MAX_LENGTH} characters")
    if "\x00" in password:
        raise UserError("the password contains a NUL character")


def generated_password() -> str:
    return secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)


def find_user(session: Session, email: str) -> User | None:
    try:
        address = normalise_email(email)
    except UserError:
        return None
    return session.scalar(sa.select(User).where(User.email == address))


def get_user(session: Session, email: str) -> User:
    user = find_user(session, email)
    if user is None:
        raise UserError(f"there is no user {email.strip()[:80]!r}")
    return user


def create_user(
    session: Session, *, email: str, role: str, password: str | None, now: datetime
) -> tuple[User, str | None]:
    """A new active user; returns it and the generated password when none was given.
    Flushes."""
    address = normalise_email(email)
    if role not in USER_ROLES:
        raise UserError(f"the role must be one of {', '.join(USER_ROLES)}, not {role!r}")
    if session.scalar(sa.select(User.id).where(User.email == address)) is not None:
        raise UserError(f"there is already a user {address}")
    generated = None
    if password is None:
        password = generated = generated_password()
    check_password(password)
    user = User(
        email=address,
        role=role,
        password_hash=_hasher.hash(password),
        active=True,
        session_version=1,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user, generated


def set_role(session: Session, user: User, role: str) -> None:
    if role not in USER_ROLES:
        raise UserError(f"the role must be one of {', '.join(USER_ROLES)}, not {role!r}")
    user.role = role
    session.flush()


def set_password(session: Session, user: User, password: str) -> None:
    """A new password ends every session made with the old one."""
    check_password(password)
    user.password_hash = _hasher.hash(password)
    user.session_version += 1
    session.flush()


def deactivate(session: Session, user: User) -> None:
    """The user cannot log in, and every session of theirs ends."""
    user.active = False
    user.session_version += 1
    session.flush()


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this address and password, or None, whichever is wrong."""
    user = find_user(session, email)
    candidate = user.password_hash if user is not None else _DUMMY_HASH
    try:
        _hasher.verify(candidate, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


# --- Two-factor sign-in (TOTP) -------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str, issuer: str = TOTP_ISSUER) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def _accepted_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step the code belongs to (now, or one either side), or None."""
    code = code.strip().replace(" ", "")
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    step = int(now.timestamp()) // totp.interval
    for candidate in (step, step - 1, step + 1):
        if secrets.compare_digest(totp.at(candidate * totp.interval), code):
            return candidate
    return None


def enable_totp(session: Session, user: User, secret: str, code: str, now: datetime) -> None:
    """Turn two-factor sign-in on once the user proves their app has the secret."""
    step = _accepted_step(secret, code, now)
    if step is None:
        raise UserError("that code is not the one your app shows now; try the next one")
    user.totp_secret = secret
    user.totp_enabled_at = now
    user.totp_last_step = step
    session.flush()


def disable_totp(session: Session, user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.flush()


def verify_totp(session: Session, user: User, code: str, now: datetime) -> bool:
    """A code of the user's app, each accepted once."""
    if not user.totp_secret:
        return False
    step = _accepted_step(user.totp_secret, code, now)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    session.flush()
    return True


# --- Password reset -------------------------------------------------------------------------


def start_password_reset(
    session: Session, email: str, *, link_key: bytes, now: datetime
) -> PasswordReset | None:
    """A single-use reset for the active user with this address (None when there is none;
    the caller says the same either way). Its link is derived from the stored nonce, as
    survey links are, so the e-mail row can be sent later without the token being kept.
    Flushes."""
    user = find_user(session, email)
    if user is None or not user.active:
        return None
    nonce = new_nonce()
    reset = PasswordReset(
        user_id=user.id,
        nonce=nonce,
        token_hash=token_hash(reset_token(link_key, nonce)),
        expires_at=now + RESET_VALID_FOR,
        created_at=now,
    )
    session.add(reset)
    session.flush()
    return reset


def reset_token(link_key: bytes, nonce: str) -> str:
    return token_for(link_key, f"password-reset:{nonce}")


def find_reset(session: Session, token: str, now: datetime) -> PasswordReset | None:
    """The unused, unexpired reset this token opens, or None."""
    if not token or len(token) > 100:
        return None
    reset = session.scalar(
        sa.select(PasswordReset).where(PasswordReset.token_hash == token_hash(token))
    )
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        return None
    if not reset.user.active:
        return None
    return reset


def finish_password_reset(
    session: Session, reset: PasswordReset, password: str, now: datetime
) -> User:
    set_password(session, reset.user, password)
    reset.used_at = now
    # every other open reset of the user dies with this one
    session.execute(
        sa.update(PasswordReset)
        .where(PasswordReset.user_id == reset.user_id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return reset.user


# --- Audit log -----------------------------------------------------------------------------


def audit(
    session: Session,
    action: str,
    *,
    now: datetime,
    user: User | None = None,
    actor: str | None = None,
    target: str | None = None,
    detail: str | None = None,
    address: str | None = None,
) -> None:
    """One line of the audit log. Flushes; it commits with what it records."""
    session.add(
        AuditEvent(
            at=now,
            user_id=user.id if user is not None else None,
            actor=(actor or (user.email if user is not None else "system"))[:254],
            action=action,
            target=target,
            detail=(detail or None) and detail[:500],
            address=(address or None) and address[:64],
        )
    )
    session.flush()
