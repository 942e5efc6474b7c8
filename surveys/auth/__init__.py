"""Staff access. Staff logins come in a later issue; until then the staff pages are open
only where ``STAFF_PAGES_OPEN`` is set (the development and testing settings), and
closed in production."""

from flask import Blueprint, abort, current_app


def staff_only(blueprint: Blueprint) -> Blueprint:
    """Guard every page of a staff blueprint."""

    @blueprint.before_request
    def require_staff() -> None:
        if not current_app.config["STAFF_PAGES_OPEN"]:
            abort(403)

    return blueprint
