"""The personal links put in e-mails. The respond views serve these paths."""

import re
from urllib.parse import quote

# Where the pages behind a personal link live.
URL_PREFIX = "/r"
_TOKEN_SEGMENT = re.compile(rf"(?<={URL_PREFIX}/)[^/?#\s\"']+")


def mask_tokens(text: str) -> str:
    """``GET /r/abc123/thanks`` -> ``GET /r/<token>/thanks``: for anything a log keeps."""
    return _TOKEN_SEGMENT.sub("<token>", text)


def answer_url(base_url: str, token: str, score: int | None = None) -> str:
    url = f"{base_url}{URL_PREFIX}/{quote(token)}"
    return url if score is None else f"{url}?score={score}"


def unsubscribe_url(base_url: str, token: str) -> str:
    return f"{base_url}{URL_PREFIX}/{quote(token)}/unsubscribe"
