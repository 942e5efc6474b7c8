"""Personal survey tokens. Every e-mail ever sent for an invitation (the invitation, its
reminder, a retry) must carry the same working link, yet the link is never stored: the
token is an HMAC of a random per-invitation nonce under a key derived from the
application's secret, so the database alone (nonce and the token's SHA-256) cannot
produce a link, and the sender can make the same one again."""

import base64
import hashlib
import hmac
import secrets

NONCE_BYTES = 16
# Only for tokens that no invitation keeps a nonce for (the demo's past campaigns).
TOKEN_BYTES = 32


def link_key(secret_key: str) -> bytes:
    """The key that turns nonces into tokens, separate from the key that signs cookies."""
    return hmac.new(secret_key.encode(), b"surveys personal links v1", hashlib.sha256).digest()


def new_nonce() -> str:
    return secrets.token_hex(NONCE_BYTES)


def token_for(key: bytes, nonce: str) -> str:
    """The invitation's token: 256 bits, URL-safe, the same every time for one nonce."""
    digest = hmac.new(key, nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
