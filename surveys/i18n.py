"""Which language a page speaks. Customer pages and e-mails speak the contact's language
(sv, nb, en); staff pages are English.

Customer templates render through a Jinja environment per language whose ``_()`` is
bound to that language's catalogue once. Flask-Babel looks the locale up again for every
string and Jinja's i18n extension wraps each call twice (8-10 us a string, against 2 us),
and the answer page is the product's hot path. The catalogues are the same gettext files
and the templates the same ``_()`` calls; the result is a plain string that Jinja
autoescapes, variables included.
"""

from collections.abc import Callable

from babel.support import Translations
from flask import Flask, current_app, g, request
from jinja2 import Environment

CUSTOMER_LANGUAGES = ("en", "sv", "nb")
EXTENSION_KEY = "surveys.customer_templates"


def select_locale() -> str:
    """Flask-Babel's locale selector (lazy strings, staff pages): customer pages set
    ``g.locale``."""
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


def init_app(app: Flask) -> None:
    """Build the per-language environments."""
    directory = app.config["BABEL_TRANSLATION_DIRECTORIES"]
    environments: dict[str, Environment] = {}
    for language in CUSTOMER_LANGUAGES:
        # Flask's own factory: the same loader, globals, filters and autoescaping
        translations = Translations.load(directory, [language])
        if not isinstance(translations, Translations):
            raise RuntimeError(
                f"the {language} catalogue is not compiled in {directory}: "
                "run `make translations` (pybabel compile -d surveys/translations)"
            )
        environment = app.create_jinja_environment()
        environment.globals["_"] = _bound_gettext(translations)
        environments[language] = environment
    app.extensions[EXTENSION_KEY] = environments


def _bound_gettext(translations: Translations) -> Callable[..., str]:
    lookup = translations.gettext

    def gettext(message: str, **variables: object) -> str:
        text = lookup(message)
        return text % variables if variables else text

    return gettext


def translatable(message: str) -> str:
    """Mark a string for the catalogues; it is translated where it is used."""
    return message


def customer_gettext(language: str, message: str, **variables: object) -> str:
    """One string in a customer language, outside a template (an e-mail's subject)."""
    return current_app.extensions[EXTENSION_KEY][language].globals["_"](message, **variables)


def render_customer_template(name: str, language: str, **context: object) -> str:
    """Render a customer page or e-mail in ``language``."""
    app = current_app._get_current_object()
    context["language"] = language
    app.update_template_context(context)
    return app.extensions[EXTENSION_KEY][language].get_template(name).render(context)
