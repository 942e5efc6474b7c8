"""Which language a page speaks. Customer pages and e-mails speak the contact's language
(sv, nb, en); staff pages are English.

Customer templates render through a Jinja environment per language whose ``_()`` is
bound to that language's catalogue once. Flask-Babel looks the locale up again for every
string and Jinja's i18n extension wraps each call twice (8-10 us a string, against 2 us),
and the answer page is the product's hot path. The catalogues are the same gettext files
and the templates the same ``_()`` calls; the result is a plain string that Jinja
autoescapes, variables included.
"""

import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from flask import Flask, current_app, g, request
from jinja2 import Environment

logger = logging.getLogger(__name__)

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


def compile_catalogues(directory: str | Path) -> list[Path]:
    """Compile every catalogue whose .mo is missing or older than its .po, so that a fresh
    clone needs no build step; returns the files written. Each is written to a temporary
    file and renamed, so workers starting at once never read half a file."""
    written = []
    for source in sorted(Path(directory).glob("*/LC_MESSAGES/*.po")):
        target = source.with_suffix(".mo")
        if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
            continue
        with source.open("rb") as handle:
            catalogue = read_po(handle)
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, suffix=".mo.tmp")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                write_mo(handle, catalogue, use_fuzzy=False)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        written.append(target)
    return written


def init_app(app: Flask) -> None:
    """Compile stale catalogues; the per-language environments are built on first use,
    so commands that render no customer text run whatever state the catalogues are in."""
    directory = app.config["BABEL_TRANSLATION_DIRECTORIES"]
    try:
        for path in compile_catalogues(directory):
            logger.info("compiled %s", path)
    except OSError as error:
        logger.warning("cannot compile the catalogues in %s: %s", directory, error)
    app.extensions[EXTENSION_KEY] = {}


def _environment(language: str) -> Environment:
    """The Jinja environment of one customer language, built once per process."""
    app = current_app._get_current_object()
    environments: dict[str, Environment] = app.extensions[EXTENSION_KEY]
    environment = environments.get(language)
    if environment is None:
        directory = app.config["BABEL_TRANSLATION_DIRECTORIES"]
        translations = Translations.load(directory, [language])
        if not isinstance(translations, Translations):
            raise RuntimeError(
                f"the {language} catalogue is not compiled in {directory} and could not be "
                "compiled there: run `make translations` (pybabel compile -d "
                "surveys/translations) as a user who may write to it"
            )
        # Flask's own factory: the same loader, globals, filters and autoescaping
        environment = app.create_jinja_environment()
        environment.globals["_"] = _bound_gettext(translations)
        environments[language] = environment
    return environment


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
    return _environment(language).globals["_"](message, **variables)


def render_customer_template(name: str, language: str, **context: object) -> str:
    """Render a customer page or e-mail in ``language``."""
    app = current_app._get_current_object()
    context["language"] = language
    app.update_template_context(context)
    return _environment(language).get_template(name).render(context)
