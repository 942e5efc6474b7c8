"""gunicorn's access log without the personal tokens: the request line, path, query and
referer of every line have the token segment of ``/r/<token>`` masked, because a log is
read by people a customer's link was never meant for. ``gunicorn.conf.py`` sets it."""

from gunicorn.glogging import Logger

from surveys.respond.links import mask_tokens


class TokenMaskingLogger(Logger):
    def atoms(self, resp, req, environ, request_time) -> dict:
        return {
            key: mask_tokens(value) if isinstance(value, str) else value
            for key, value in super().atoms(resp, req, environ, request_time).items()
        }
