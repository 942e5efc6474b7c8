from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from surveys.demo.services import CONTACTS_CSV, DEMO_PASSWORD, DEMO_USERS, load_demo
from surveys.extensions import db

demo = AppGroup("demo", help="The demo data that `make run` loads.")


@demo.command("load")
def load_command() -> None:
    """Import the demo accounts and contacts and, into a database without campaigns, two
    answered NPS campaigns of the past year and an open, partly answered exit campaign to
    the churned accounts. Loading again changes nothing."""
    result = load_demo(db.session, datetime.now(UTC))
    click.echo(f"{CONTACTS_CSV.name}: {result.imported.summary()}")
    for campaign in result.campaigns:
        line = (
            f"Added campaign {campaign.name!r}: {campaign.invited} invited, "
            f"{campaign.answered} answered"
        )
        if campaign.accounts:
            line += f"; asks the churned accounts {', '.join(campaign.accounts)}"
        click.echo(line)
    for email in result.users:
        click.echo(f"Added user {email}")
    if not result.campaigns:
        click.echo("Campaigns exist already, so no demo campaigns were added.")
    if not result.changed:
        click.echo("The demo is loaded already; nothing changed.")


@demo.command("logins")
def logins_command() -> None:
    """Print the demo's sign-ins (development only)."""
    for email, role in DEMO_USERS:
        click.echo(f"  {role.replace('_', ' '):<16} {email:<30} password: {DEMO_PASSWORD}")
