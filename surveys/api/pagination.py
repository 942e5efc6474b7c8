"""Cursor pagination: ``?limit=`` (20 a page, at most 100) and ``?cursor=`` from the
previous page's ``next``.

A cursor is the sort key of the last item of a page, signed with a key derived from
``SECRET_KEY`` and the list it belongs to, so it is opaque, cannot be forged or moved
to another list, and says nothing a client could rely on. Each list is ordered by a key
that never changes (a row id, or answered time and id), and a page is "the items after
the key": rows added during a walk appear on a later page or not at all, never twice,
and none is skipped.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import sqlalchemy as sa
from flask import current_app, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer

from surveys.api.errors import ApiError

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
CURSOR_MAX_LENGTH = 200
LIMIT_PATTERN = re.compile(r"[0-9]{1,3}")
ROW_ID_MAX = 2**31 - 1

Item = TypeVar("Item")


def single(name: str) -> str | None:
    """A query parameter given at most once (None when absent)."""
    values = request.args.getlist(name)
    if len(values) > 1:
        raise ApiError(400, f"{name} is given more than once.", parameter=name)
    return values[0] if values else None


def page_limit() -> int:
    """``?limit=``: ASCII digits from 1 to 100; 20 when absent."""
    text = single("limit")
    if text is None:
        return DEFAULT_LIMIT
    if not LIMIT_PATTERN.fullmatch(text) or not 1 <= int(text) <= MAX_LIMIT:
        raise ApiError(
            400, f"limit must be a whole number from 1 to {MAX_LIMIT}.", parameter="limit"
        )
    return int(text)


def _serializer(kind: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"api-cursor:{kind}")


def encode_cursor(kind: str, key: Sequence[object]) -> str:
    return _serializer(kind).dumps(
        [value.isoformat() if isinstance(value, datetime) else value for value in key]
    )


def _bad_cursor() -> ApiError:
    return ApiError(
        400,
        "cursor is not one this list gave: take the next URL of the previous page as it is.",
        parameter="cursor",
    )


def row_id(value: object) -> int:
    """A cursor's id, as ids are: 1 to 2**31 - 1."""
    if type(value) is not int or not 1 <= value <= ROW_ID_MAX:
        raise _bad_cursor()
    return value


def moment(value: object) -> datetime:
    """A cursor's time, as encode_cursor wrote it: ISO 8601 with its offset."""
    if not isinstance(value, str) or len(value) > 40:
        raise _bad_cursor()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _bad_cursor() from None
    if parsed.tzinfo is None:
        raise _bad_cursor()
    return parsed


def page_cursor(kind: str, *readers: Callable[[object], object]) -> tuple | None:
    """``?cursor=`` of list ``kind``, its values read by ``readers`` (one a key part), or
    None on the first page."""
    text = single("cursor")
    if text is None:
        return None
    if not text or len(text) > CURSOR_MAX_LENGTH or not text.isascii():
        raise _bad_cursor()
    try:
        values = _serializer(kind).loads(text)
    except BadSignature:
        raise _bad_cursor() from None
    if not isinstance(values, list) or len(values) != len(readers):
        raise _bad_cursor()
    return tuple(reader(value) for reader, value in zip(readers, values, strict=True))


@dataclass(frozen=True)
class Page:
    items: list[dict]
    next: str | None
    limit: int

    def as_response(self) -> dict:
        return {"items": self.items, "next": self.next, "limit": self.limit}


def next_url(kind: str, key: Sequence[object], limit: int) -> str:
    """This request's URL (its filters kept) for the page after ``key``, absolute."""
    args = {name: request.args.getlist(name) for name in request.args if name != "cursor"}
    args["limit"] = [str(limit)]
    args["cursor"] = [encode_cursor(kind, key)]
    return url_for(request.endpoint, **(request.view_args or {}), **args, _external=True)


def make_page(
    kind: str,
    rows: Sequence[Item],
    limit: int,
    key: Callable[[Item], Sequence[object]],
    row: Callable[[Item], dict],
    *,
    more: bool | None = None,
) -> Page:
    """A page from up to ``limit + 1`` rows in order: the extra one says there is more
    (or ``more`` does)."""
    shown = list(rows[:limit])
    more = len(rows) > limit if more is None else more
    return Page(
        [row(item) for item in shown],
        next_url(kind, key(shown[-1]), limit) if more and shown else None,
        limit,
    )


def after_id(query: sa.Select, column: sa.ColumnElement, cursor: tuple | None, limit: int):
    """``query`` ordered by the id ``column``, from after the cursor's id, one row more
    than a page."""
    if cursor is not None:
        query = query.where(column > cursor[0])
    return query.order_by(column).limit(limit + 1)
