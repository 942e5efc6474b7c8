import json
import sys
import time

import click
from flask import current_app
from flask.cli import AppGroup
from tqdm import tqdm

from surveys.campaigns.models import SURVEY_KINDS
from surveys.campaigns.services import (
    MAX_REMIND_AFTER_DAYS,
    CampaignError,
    CampaignStatus,
    campaign_status,
    campaign_summaries,
    create_campaign,
    pending_count,
    queue_campaign,
    retry,
    run_tick,
    split_account_ids,
)
from surveys.campaigns.tokens import link_key
from surveys.columns import utcnow
from surveys.delivery.dispatcher import DispatchSettings, drain
from surveys.delivery.queue import BrokerUnavailableError, broker_url, kick, kick_webhooks
from surveys.extensions import db

campaigns = AppGroup("campaigns", help="Survey campaigns: create, send, follow, retry.")

# How often `send --wait` looks at the database.
POLL_SECONDS = 1.0
# A send that leaves more invitations in these states than it found exits non-zero.
PROBLEM_STATES = ("failed", "bounced", "unknown")


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
@click.option(
    "--remind-after-days",
    type=click.IntRange(0, MAX_REMIND_AFTER_DAYS),
    default=None,
    help="Remind who has not answered this many days after the invitation, once "
    "(default: REMINDER_AFTER_DAYS, 4; 0: at the next tick).",
)
@click.option("--no-reminder", is_flag=True, help="Send no reminder.")
def create_command(
    kind: str,
    name: str,
    closes_in_days: int | None,
    account_ids: str | None,
    remind_after_days: int | None,
    no_reminder: bool,
) -> None:
    """Create a campaign; prints its id alone on the last line. An NPS campaign asks every
    active account, an exit campaign the accounts that left."""
    config = current_app.config
    if no_reminder and remind_after_days is not None:
        raise click.UsageError("--no-reminder and --remind-after-days contradict each other")
    if not no_reminder and remind_after_days is None:
        remind_after_days = config["REMINDER_AFTER_DAYS"]
    try:
        campaign = create_campaign(
            db.session,
            kind=kind,
            name=name,
            account_ids=split_account_ids(account_ids),
            days_open=(
                config["CAMPAIGN_DEFAULT_DAYS_OPEN"] if closes_in_days is None else closes_in_days
            ),
            remind_after_days=None if no_reminder else remind_after_days,
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


def _progress(total: int, label: str) -> tqdm:
    """A bar on a terminal, nothing otherwise (logs and pipes stay clean)."""
    return tqdm(total=total, desc=label, unit="mail", disable=None, file=sys.stderr)


@campaigns.command("send")
@click.argument("campaign_id", type=int)
@click.option(
    "--wait", is_flag=True, help="With a broker: show progress until every e-mail has gone."
)
def send_command(campaign_id: int, wait: bool) -> None:
    """Queue an e-mail for every contact of the campaign who has none yet and send them:
    through the workers when a broker is set, here otherwise. Nobody is mailed twice;
    contacts added since the last send get theirs now."""
    config = current_app.config
    try:
        queued = queue_campaign(
            db.session,
            campaign_id,
            link_key=link_key(config["SECRET_KEY"]),
            fatigue_days=config["NPS_FATIGUE_DAYS"],
        )
    except CampaignError as error:
        raise click.ClickException(str(error)) from None
    skipped = ", ".join(f"{count} {reason}" for reason, count in sorted(queued.skipped.items()))
    click.echo(f"{queued.queued} queued" + (f"; skipped: {skipped}" if skipped else ""))
    before = campaign_status(db.session, campaign_id)
    if broker_url(config):
        try:
            kick(pending_count(db.session))
        except BrokerUnavailableError as error:
            raise click.ClickException(str(error)) from None
        if not wait:
            return
        _wait(campaign_id)
    else:
        settings = DispatchSettings.from_config(config)
        with _progress(pending_count(db.session), "Sending") as bar:
            outcome = drain(db.session, settings, progress=lambda state: bar.update())
        if outcome.stopped:
            click.echo(f"stopped: {outcome.stopped}; send again to go on", err=True)
    after = campaign_status(db.session, campaign_id)
    _report(after, only_new=True)
    click.echo(f"{after.states['sent'] - before.states['sent']} sent")
    if any(after.states[state] > before.states[state] for state in PROBLEM_STATES) or (
        not broker_url(config) and outcome.stopped
    ):
        raise SystemExit(1)


def _wait(campaign_id: int) -> None:
    """Poll until no invitation of the campaign is queued or being sent."""
    status = campaign_status(db.session, campaign_id, problems_limit=0)
    total = sum(status.states.values())
    with _progress(total, "Sending") as bar:
        while True:
            db.session.rollback()  # a fresh snapshot each time
            status = campaign_status(db.session, campaign_id, problems_limit=0)
            bar.n = total - status.in_flight
            bar.refresh()
            if not status.in_flight:
                return
            time.sleep(POLL_SECONDS)


def _states_line(status: CampaignStatus) -> str:
    return ", ".join(f"{count} {state}" for state, count in status.states.items() if count)


def _report(status: CampaignStatus, *, only_new: bool = False) -> None:
    for problem in status.problems:
        if only_new and problem.state == "skipped":
            continue
        what = "" if problem.kind == "invitation" else f" ({problem.kind})"
        click.echo(
            f"{problem.state}: {problem.contact_email}{what}: {problem.reason or ''}", err=True
        )


@campaigns.command("status")
@click.argument("campaign_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def status_command(campaign_id: int, as_json: bool) -> None:
    """Invitations per delivery state, reminders sent, and every contact whose e-mail
    failed, bounced, may not have gone (unknown) or was skipped, with why."""
    try:
        status = campaign_status(db.session, campaign_id)
    except CampaignError as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps(status.as_json(), ensure_ascii=False))
        return
    campaign = status.campaign
    click.echo(f"Campaign {campaign.id} {campaign.name!r} ({campaign.kind})")
    click.echo(_states_line(status) or "nothing queued yet")
    click.echo(f"{status.reminders_sent} reminders sent")
    _report(status)


@campaigns.command("retry")
@click.argument("campaign_id", type=int)
@click.option("--failed", is_flag=True, help="Queue again the e-mails that failed.")
@click.option(
    "--unknown",
    is_flag=True,
    help="Queue again the e-mails that may or may not have gone: some may arrive twice.",
)
def retry_command(campaign_id: int, failed: bool, unknown: bool) -> None:
    """Send failed or unknown e-mails again, on purpose, with the same personal links."""
    states = tuple(state for state, wanted in (("failed", failed), ("unknown", unknown)) if wanted)
    if not states:
        raise click.UsageError("say which: --failed, --unknown or both")
    try:
        count = retry(db.session, campaign_id, states=states, now=utcnow())
    except CampaignError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{count} queued again")
    if unknown and count:
        click.echo(
            "Some of these may have reached their contact already and will arrive twice "
            "(with the same link).",
            err=True,
        )
    if count:
        try:
            kick(count)
        except BrokerUnavailableError as error:
            raise click.ClickException(str(error)) from None


@campaigns.command("tick")
def tick_command() -> None:
    """The periodic work (beat runs it every minute; without a broker, run it from cron):
    rows stuck in sending become unknown, due reminders are queued, old free texts go,
    and whatever is due is sent. Safe to run often and concurrently."""
    config = current_app.config
    result = run_tick(
        db.session,
        settings=DispatchSettings.from_config(config),
        retention_days=config["FREE_TEXT_RETENTION_DAYS"],
    )
    click.echo(
        f"{result.unknown} marked unknown, {result.reminders} reminders queued, "
        f"{result.free_texts_removed} old free texts removed, {result.due} due"
    )
    try:
        if result.due:
            kick(result.due)
        if result.webhooks_due:
            kick_webhooks()
    except BrokerUnavailableError as error:
        raise click.ClickException(str(error)) from None


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
