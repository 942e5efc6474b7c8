"""The personal links put in e-mails. The respond views serve these paths."""

import re
from urllib.parse import quote

# Where the pages behind a personal link live.
URL_PREFIX = "/r"
# Paths whose next segment is a secret: a survey link's token, a password reset's.
SECRET_PATHS = (URL_PREFIX + "/", "/password/reset/")
_TOKEN_SEGMENT = re.compile(
    "(?:" + "|".join(f"(?<={re.escape(path)})" for path in SECRET_PATHS) + r")[^/?#\s\"']+"
)


def mask_tokens(text: str) -> str:
    """``GET /r/abc123/thanks`` -> ``GET /r/<token>/thanks`` (and a password reset's
    token likewise): for anything a log keeps."""
    return _TOKEN_SEGMENT.sub("<token>", text)


def answer_url(base_url: str, token: str, score: int | None = None) -> str:
    url = f"{base_url}{URL_PREFIX}/{quote(token)}"
    return url if score is None else f"{url}?score={score}"


def unsubscribe_url(base_url: str, token: str) -> str:
    return f"{base_url}{URL_PREFIX}/{quote(token)}/unsubscribe"
