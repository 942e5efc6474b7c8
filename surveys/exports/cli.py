import shutil
import sys
import tempfile
from pathlib import Path
from typing import IO

import click
from flask.cli import AppGroup

from surveys.auth.access import Scope
from surveys.auth.services import audit
from surveys.columns import utcnow
from surveys.exports.tables import Table, answers_table
from surveys.exports.writers import FORMATS, SEPARATORS, write_table
from surveys.extensions import db
from surveys.reports.queries import AnswerFilters

export = AppGroup("export", help="Raw answers as CSV or XLSX files.")


@export.command("answers")
@click.option("--format", "file_format", type=click.Choice(FORMATS), required=True)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (default: standard output; XLSX only into a file or a pipe).",
)
@click.option(
    "--sep",
    "separator",
    type=click.Choice(SEPARATORS),
    default=";",
    show_default=True,
    help="CSV: ';' for Nordic Excel (with decimal commas), ',' for the rest.",
)
def answers_command(file_format: str, output: Path | None, separator: str) -> None:
    """Every answer, one row each: when, the campaign's kind, the account, the contact, their
    role and language, the score, the reason picked and the reasons found, the comment.
    Cells a spreadsheet would run as a formula are written as text."""
    stdout = sys.stdout.buffer
    if output is None and file_format == "xlsx" and stdout.isatty():
        raise click.UsageError("XLSX is a binary file: give --output FILE, or pipe it")
    if output is not None:
        _check_writable(output)
    table = answers_table(db.session, AnswerFilters(scope=Scope.system()))
    if output is None:
        try:
            _to_stdout(table, file_format, stdout, separator)
        except BrokenPipeError:
            raise click.ClickException("the reading end of the pipe closed early") from None
    else:
        _write(table, file_format, output, separator)
    audit(
        db.session,
        "export",
        now=utcnow(),
        actor="command line",
        target=table.name,
        detail=f"{file_format}, {table.count} rows",
    )
    db.session.commit()
    click.echo(f"{table.count} answer(s) written to {output or 'standard output'}", err=True)


def _to_stdout(table: Table, file_format: str, stdout: IO[bytes], separator: str) -> None:
    if file_format == "csv":
        write_table(table, file_format, stdout, separator)
    else:
        # a workbook is a zip, finished only at its end: built aside, then copied out
        with tempfile.TemporaryFile() as built:
            write_table(table, file_format, built, separator)
            built.seek(0)
            shutil.copyfileobj(built, stdout)
    stdout.flush()


def _check_writable(output: Path) -> None:
    """Say what is wrong with the output path before any work is done."""
    parent = output.parent
    if not parent.exists():
        raise click.ClickException(f"cannot write {output}: the directory {parent} does not exist")
    if not parent.is_dir():
        raise click.ClickException(f"cannot write {output}: {parent} is not a directory")
    if output.is_dir():
        raise click.ClickException(f"cannot write {output}: it is a directory")


def _write(table: Table, file_format: str, output: Path, separator: str) -> None:
    """Into the file, or nothing: a file this command began is removed when writing fails."""
    existed = output.exists()
    try:
        with output.open("wb") as target:
            write_table(table, file_format, target, separator)
    except OSError as error:
        if not existed:
            try:
                output.unlink(missing_ok=True)
            except OSError:
                pass  # the message below says what went wrong first
        reason = error.strerror or str(error)
        raise click.ClickException(f"cannot write {output}: {reason}") from None
