import click
from flask.cli import AppGroup

from surveys.columns import utcnow
from surveys.delivery.queue import BrokerUnavailableError, kick
from surveys.extensions import db
from surveys.followups.services import queue_digests

followups = AppGroup("followups", help="Follow-ups of detractor and exit answers.")


@followups.command("digest")
def digest_command() -> None:
    """E-mail each manager the follow-ups assigned to them that are overdue (open past
    their due time): one digest a manager a week, however often it runs. Celery beat runs
    it on Mondays at 07:00 UTC; without a broker run it from cron."""
    result = queue_digests(db.session, now=utcnow())
    db.session.commit()
    click.echo(
        f"{result.week}: {result.queued} digest(s) queued, listing {result.follow_ups} "
        f"overdue follow-up(s); {result.already} manager(s) had this week's already."
    )
    if result.queued:
        try:
            kick(result.queued)
        except BrokerUnavailableError as error:
            raise click.ClickException(str(error)) from None
