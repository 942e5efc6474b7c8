"""Every page and e-mail a customer sees exists in Swedish, Norwegian and English."""

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "surveys" / "translations"


def catalogue(language: str):
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as file:
        return read_po(file, locale=language)


def test_the_template_lists_every_string_in_the_code(tmp_path):
    """`pybabel extract` finds nothing that messages.pot lacks (run `make catalogues`)."""
    extracted = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "translatable",
            "-o",
            str(extracted),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with extracted.open("rb") as file:
        found = {message.id for message in read_po(file) if message.id}
    with (TRANSLATIONS / "messages.pot").open("rb") as file:
        kept = {message.id for message in read_po(file) if message.id}
    assert found - kept == set()


@pytest.mark.parametrize("language", ["sv", "nb"])
def test_every_string_is_translated(language):
    with (TRANSLATIONS / "messages.pot").open("rb") as file:
        wanted = {message.id for message in read_po(file) if message.id}
    translated = {
        message.id
        for message in catalogue(language)
        if message.id and message.string and not message.fuzzy
    }
    assert wanted - translated == set()


@pytest.mark.parametrize("language", ["sv", "nb"])
def test_placeholders_survive_translation(language):
    for message in catalogue(language):
        if message.id and message.string:
            for placeholder in ("%(name)s", "%(date)s", "%(closes)s", "%(email)s", "%(max)d"):
                assert (placeholder in message.id) == (placeholder in message.string), message.id
