import click
from flask.cli import AppGroup

from surveys.auth.services import audit
from surveys.columns import utcnow
from surveys.extensions import db
from surveys.webhooks.models import EVENTS
from surveys.webhooks.services import WebhookError, add_endpoint, deactivate_endpoint, endpoints

webhooks = AppGroup("webhooks", help="Webhooks: signed POSTs of events to your URLs.")


@webhooks.command("add")
@click.argument("url")
@click.option(
    "--events",
    required=True,
    help=f"Comma-separated, of: {', '.join(EVENTS)}.",
)
def add_command(url: str, events: str) -> None:
    """POST EVENTS to URL; prints the signing secret once."""
    try:
        endpoint, secret = add_endpoint(db.session, url=url, events=events.split(","), now=utcnow())
    except WebhookError as error:
        raise click.ClickException(str(error)) from None
    audit(
        db.session,
        "webhook added",
        now=utcnow(),
        actor="command line",
        target=f"webhook {endpoint.id}",
        detail=", ".join(endpoint.events),
    )
    db.session.commit()
    click.echo(f"Webhook {endpoint.id}: {endpoint.url} ({', '.join(endpoint.events)})")
    click.echo(f"Signing secret (shown once): {secret}")


@webhooks.command("list")
def list_command() -> None:
    """Every webhook: id, active or not, events, URL."""
    for endpoint in endpoints(db.session):
        state = "active" if endpoint.active else "off"
        click.echo(f"{endpoint.id}\t{state}\t{','.join(endpoint.events)}\t{endpoint.url}")


@webhooks.command("deactivate")
@click.argument("webhook_id", type=int)
def deactivate_command(webhook_id: int) -> None:
    """Stop sending to a webhook; what is queued for it is not sent."""
    try:
        endpoint = deactivate_endpoint(db.session, webhook_id)
    except WebhookError as error:
        raise click.ClickException(str(error)) from None
    audit(
        db.session,
        "webhook deactivated",
        now=utcnow(),
        actor="command line",
        target=f"webhook {endpoint.id}",
    )
    db.session.commit()
    click.echo(f"Webhook {endpoint.id} is off.")
