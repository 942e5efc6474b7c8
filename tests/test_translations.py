"""Every page and e-mail a customer sees exists in Swedish, Norwegian and English."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from babel.support import Translations

from surveys.i18n import compile_catalogues

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
            for placeholder in (
                "%(name)s",
                "%(date)s",
                "%(closes)s",
                "%(email)s",
                "%(max)d",
                "%(company)s",
                "%(character)s",
                "%(subject)s",
            ):
                assert (placeholder in message.id) == (placeholder in message.string), message.id


def fresh_clone(tmp_path: Path) -> Path:
    """The files a clone holds: no compiled catalogue, nothing built."""
    clone = tmp_path / "clone"
    ignore = shutil.ignore_patterns("*.mo", "__pycache__", "*.pyc")
    for name in ("surveys", "migrations", "templates", "static"):
        shutil.copytree(ROOT / name, clone / name, ignore=ignore)
    for name in ("config.py", "wsgi.py", "babel.cfg"):
        shutil.copy(ROOT / name, clone / name)
    return clone


def test_a_fresh_clone_runs_the_command_line_and_compiles_its_catalogues(tmp_path):
    clone = fresh_clone(tmp_path)
    catalogues = sorted((clone / "surveys" / "translations").glob("*/LC_MESSAGES/*.mo"))
    assert catalogues == []
    env = {
        **os.environ,
        "SURVEYS_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path}/fresh.db",
        "OUTBOX_DIR": str(tmp_path / "outbox"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    compiled = sorted((clone / "surveys" / "translations").glob("*/LC_MESSAGES/messages.mo"))
    assert [path.parent.parent.name for path in compiled] == ["en", "nb", "sv"]


def test_a_stale_catalogue_is_compiled_again(tmp_path):
    directory = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS, directory, ignore=shutil.ignore_patterns("*.mo"))
    assert {path.parent.parent.name for path in compile_catalogues(directory)} == {
        "en",
        "nb",
        "sv",
    }
    assert compile_catalogues(directory) == []  # up to date: nothing to do
    source = directory / "sv" / "LC_MESSAGES" / "messages.po"
    text = source.read_text(encoding="utf-8")
    source.write_text(text.replace('msgstr "Tack!"', 'msgstr "Tack så mycket!"'), "utf-8")
    later = source.stat().st_mtime + 5
    os.utime(source, (later, later))
    assert compile_catalogues(directory) == [source.with_suffix(".mo")]
    with source.with_suffix(".mo").open("rb") as handle:
        assert Translations(handle).gettext("Thank you!") == "Tack så mycket!"
