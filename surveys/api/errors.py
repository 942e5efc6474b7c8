"""Every answer of the API that is not a success is JSON: ``{"error": {"status", "code",
"message", "parameter"?}}`` with the HTTP status, never a page and never a traceback."""

import logging
import math
import time

from flask import Response, jsonify, request
from werkzeug.exceptions import HTTPException

from surveys.api import PREFIX

logger = logging.getLogger(__name__)

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "too_many_requests",
    500: "server_error",
}
MESSAGES = {
    404: "Nothing here: no such endpoint, or nothing this token may see.",
    405: "This endpoint answers GET only.",
    413: "The request is too large.",
    500: "Something went wrong on our side; it is logged. Try again later.",
}


class ApiError(HTTPException):
    """A request the API refuses, with what to tell the client and which query parameter
    is wrong."""

    def __init__(self, code: int, message: str, *, parameter: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.parameter = parameter


def is_api_request() -> bool:
    """A request for the API, also when no route matched."""
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def json_error(error: HTTPException) -> Response:
    code = error.code or 500
    body = {
        "status": code,
        "code": CODES.get(code, "error"),
        "message": MESSAGES.get(code) if code in (404, 405, 500) else error.description,
    }
    if not body["message"]:
        body["message"] = MESSAGES.get(code, error.name)
    parameter = getattr(error, "parameter", None)
    if parameter:
        body["parameter"] = parameter
    response = jsonify({"error": body})
    response.status_code = code
    # Allow (405), WWW-Authenticate (401), Retry-After (429): every header but the type.
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    if code == 429:
        response.headers["Retry-After"] = str(retry_after())
    return response


def retry_after() -> int:
    """Seconds until the exceeded limit lets requests through again, rounded up, plus one:
    Flask-Limiter rewrites the header from this value in whole seconds, and rounding
    down must never make it 0 ("retry now")."""
    from surveys.extensions import limiter

    limit = limiter.current_limit
    if limit is None:
        return 60
    return max(1, math.ceil(limit.reset_at - time.time())) + 1
