"""Which language a page speaks. Customer pages speak the contact's language (sv, nb, en);
staff pages are English."""

from flask import g, request

CUSTOMER_LANGUAGES = ("en", "sv", "nb")


def select_locale() -> str:
    """Flask-Babel's locale selector: customer pages set ``g.locale``."""
    return g.get("locale") or "en"


def best_customer_language() -> str:
    """The visitor's preferred customer language, for pages that know no contact."""
    for language, _quality in request.accept_languages:
        primary = language.lower().split("-")[0]
        # Browsers say "no" or "nn" for Norwegian as often as "nb".
        if primary in ("no", "nn", "nb"):
            return "nb"
        if primary in CUSTOMER_LANGUAGES:
            return primary
    return "en"
