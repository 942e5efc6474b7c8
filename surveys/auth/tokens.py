"""Per-user API tokens: made, found by the ``Authorization: Bearer`` header, revoked.

A token is "sv_" and 32 random bytes in URL-safe base64, shown once; only its SHA-256 is
stored (a random 256-bit token needs no slow hash: nothing can be guessed offline). A
request with a token acts as its user *now*: a deactivated user's token, or a revoked
one, opens nothing, and a role change applies at the next request. Plain functions on
the session; they flush, the boundary commits.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from surveys.auth.models import ApiToken, User

TOKEN_PREFIX = "sv_"
TOKEN_BYTES = 32
# The part of a token kept in the clear, to tell a user's tokens apart ("sv_AbC1xY…").
SHOWN_CHARACTERS = 10
NAME_MAX_LENGTH = 100
# A token's last use is written at most this often, so a busy client costs no write a
# request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# No real token is longer; a longer header is not looked up.
TOKEN_MAX_LENGTH = 100


class TokenError(Exception):
    """A token request that cannot be done; the message says why."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def check_name(name: str | None) -> str:
    text = (name or "").strip()
    if not text:
        raise TokenError("give the token a name, e.g. what will use it")
    if len(text) > NAME_MAX_LENGTH:
        raise TokenError(f"the name must have at most {NAME_MAX_LENGTH} characters")
    if any(ord(character) < 32 or 127 <= ord(character) < 160 for character in text):
        raise TokenError("the name contains a line break or another control character")
    return text


def create_token(
    session: Session, user: User, name: str | None, now: datetime
) -> tuple[ApiToken, str]:
    """A new token of ``user``: the row and the token itself, which is never stored and
    must be shown once. Flushes."""
    if not user.active:
        raise TokenError(f"{user.email} is deactivated")
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    row = ApiToken(
        user_id=user.id,
        name=check_name(name),
        token_hash=token_hash(token),
        prefix=token[:SHOWN_CHARACTERS],
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row, token


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header, or None."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    return token


def token_user(session: Session, token: str | None, now: datetime) -> tuple[ApiToken, User] | None:
    """The live token and its active user, or None: unknown, revoked, or the user's
    deactivated. Notes the token's use (at most once a minute). Flushes."""
    if not token or not token.isascii() or not token.startswith(TOKEN_PREFIX):
        return None
    found = session.execute(
        sa.select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == token_hash(token))
    ).first()
    if found is None:
        return None
    row, user = found
    if row.revoked_at is not None or not user.active:
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = now
        session.flush()
    return row, user


def revoke_token(session: Session, token: ApiToken, now: datetime) -> bool:
    """Revoke ``token``; False when it already was. Flushes."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = now
    session.flush()
    return True


def tokens_of(session: Session, user: User | None = None) -> list[ApiToken]:
    """The tokens of ``user`` (or of everyone), live ones first, newest first."""
    query = sa.select(ApiToken).options(sa.orm.selectinload(ApiToken.user))
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(
        session.scalars(
            query.order_by(
                ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc()
            )
        )
    )
