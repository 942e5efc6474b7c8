"""The follow-up pages' addresses, for the e-mails that link to them (built outside any
request, so without ``url_for``). The views serve these paths."""

from urllib.parse import urlencode

URL_PREFIX = "/follow-ups"


def follow_up_url(base_url: str, follow_up_id: int) -> str:
    return f"{base_url}{URL_PREFIX}/{follow_up_id}"


def list_url(base_url: str, **query: str) -> str:
    return f"{base_url}{URL_PREFIX}/" + (f"?{urlencode(query)}" if query else "")
