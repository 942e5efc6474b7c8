import click
from flask import current_app
from flask.cli import AppGroup

from surveys.campaigns.models import SURVEY_KINDS
from surveys.campaigns.services import (
    CampaignError,
    campaign_summaries,
    create_campaign,
    send_campaign,
    split_account_ids,
)
from surveys.extensions import db
from surveys.mail.messages import MailSettings

campaigns = AppGroup("campaigns", help="Survey campaigns: create, send, list.")


@campaigns.command("create")
@click.option("--kind", type=click.Choice(SURVEY_KINDS), required=True)
@click.option("--name", required=True, help="A name staff recognise, e.g. 'NPS spring 2026'.")
@click.option(
    "--closes-in-days",
    type=int,
    default=None,
    help="Days until the links stop working (default: 30).",
)
@click.option(
    "--accounts",
    "account_ids",
    help="Exit survey only: the account_ids to ask, comma-separated "
    "(default: every account that churned since the last exit campaign).",
)
def create_command(
    kind: str, name: str, closes_in_days: int | None, account_ids: str | None
) -> None:
    """Create a campaign; prints its id alone on the last line. An NPS campaign asks every
    active account, an exit campaign the accounts that left."""
    try:
        campaign = create_campaign(
            db.session,
            kind=kind,
            name=name,
            account_ids=split_account_ids(account_ids),
            days_open=(
                current_app.config["CAMPAIGN_DEFAULT_DAYS_OPEN"]
                if closes_in_days is None
                else closes_in_days
            ),
        )
    except CampaignError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Created {campaign.kind} campaign {campaign.name!r}, open until "
        f"{campaign.closes_at:%Y-%m-%d %H:%M} UTC."
    )
    if campaign.kind == "exit":
        click.echo("For accounts " + ", ".join(a.external_id for a in campaign.accounts) + ".")
    click.echo(campaign.id)


@campaigns.command("send")
@click.argument("campaign_id", type=int)
def send_command(campaign_id: int) -> None:
    """Send every invitation of a campaign not yet sent; contacts added since the last send
    are invited now. Nobody is mailed twice."""
    try:
        result = send_campaign(
            db.session, campaign_id, mail=MailSettings.from_config(current_app.config)
        )
    except CampaignError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{result.sent} sent")
    for problem in result.problems:
        click.echo(f"not sent to {problem.email}: {problem.reason}", err=True)
    if result.stopped:
        click.echo(f"stopped: {result.stopped}", err=True)
    if result.problems or result.stopped:
        raise click.ClickException(
            f"{result.failed} invitation(s) could not be sent; they are kept and the same "
            "command tries them again"
        )


@campaigns.command("list")
def list_command() -> None:
    """Every campaign with its counts."""
    for summary in campaign_summaries(db.session):
        campaign = summary["campaign"]
        state = "open until" if summary["open"] else "closed"
        click.echo(
            f"{campaign.id}\t{campaign.kind}\t{campaign.name}\t{state} "
            f"{campaign.closes_at:%Y-%m-%d}\t{summary['sent']} sent\t"
            f"{summary['answered']} answered"
        )
