import json
from pathlib import Path

import click
from flask.cli import AppGroup

from surveys.accounts.csv_import import CSVFileError
from surveys.accounts.privacy import NoSuchContactError, erase_contact, export_contact
from surveys.accounts.services import ImportRejectedError, import_contacts_csv
from surveys.auth.access import Scope
from surveys.auth.services import audit
from surveys.columns import utcnow
from surveys.extensions import db

contacts = AppGroup("contacts", help="Customer accounts and their contacts.")


@contacts.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--skip-invalid", is_flag=True, help="Import the good rows and list the bad ones.")
def import_command(file: Path, skip_invalid: bool) -> None:
    """Create or update accounts and contacts from a CSV FILE (comma or semicolon)."""
    try:
        with file.open("rb") as source:
            result = import_contacts_csv(db.session, source, skip_invalid=skip_invalid)
    except CSVFileError as error:
        raise click.ClickException(f"{file}: {error}; nothing was imported") from None
    except ImportRejectedError as error:
        for problem in error.errors:
            click.echo(f"{file}: {problem}", err=True)
        if error.count > len(error.errors):
            click.echo(f"... and {error.count - len(error.errors)} more", err=True)
        raise click.ClickException(
            f"{error.count} problem(s) in {file}; nothing was imported. Fix them, "
            "or import the good rows with --skip-invalid"
        ) from None
    for problem in result.skipped:
        click.echo(f"skipped {file}: {problem}", err=True)
    if result.problem_count > len(result.skipped):
        click.echo(f"... and {result.problem_count - len(result.skipped)} more", err=True)
    if result.skipped_rows:
        click.echo(f"{result.skipped_rows} row(s) skipped", err=True)
    click.echo(result.summary())


@contacts.command("export")
@click.argument("email")
def export_command(email: str) -> None:
    """Print as JSON everything held on the person with address EMAIL."""
    try:
        data = export_contact(db.session, email, scope=Scope.system())
    except NoSuchContactError as error:
        raise click.ClickException(str(error)) from None
    audit(
        db.session,
        "contact exported",
        now=utcnow(),
        actor="command line",
        target=f"{len(data['contacts'])} contact(s)",
    )
    db.session.commit()
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@contacts.command("erase")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase_command(email: str, yes: bool) -> None:
    """Erase the person with address EMAIL: name, address and free texts go, scores stay
    anonymised, and the address is never mailed again, even if it is imported again."""
    if not yes:
        click.confirm(f"Erase {email} at every account? This cannot be undone", abort=True)
    try:
        count = erase_contact(db.session, email, utcnow(), scope=Scope.system())
    except NoSuchContactError as error:
        raise click.ClickException(str(error)) from None
    audit(
        db.session,
        "contact erased",
        now=utcnow(),
        actor="command line",
        target=f"{count} contact(s)",
    )
    db.session.commit()
    click.echo(f"Erased {count} contact(s); the address is on the suppression list.")
