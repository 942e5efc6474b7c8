"""The personal links put in e-mails. The respond views serve these paths."""

from urllib.parse import quote


def answer_url(base_url: str, token: str, score: int | None = None) -> str:
    url = f"{base_url}/r/{quote(token)}"
    return url if score is None else f"{url}?score={score}"


def unsubscribe_url(base_url: str, token: str) -> str:
    return f"{base_url}/r/{quote(token)}/unsubscribe"
