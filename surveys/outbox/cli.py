import logging
import threading

import click
from flask import current_app
from flask.cli import AppGroup

from surveys.outbox.sink import maildir_store, start_sink

outbox = AppGroup("outbox", help="The development mail sink.")


@outbox.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8025, show_default=True, type=int)
def serve_command(host: str, port: int) -> None:
    """Accept every e-mail on HOST:PORT and keep it for the outbox page."""
    directory = current_app.config.get("OUTBOX_DIR")
    if not directory:
        raise click.ClickException("OUTBOX_DIR is not set, so there is nowhere to keep mail")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's per-connection chatter
    controller = start_sink(host, port, maildir_store(directory))
    click.echo(f"SMTP sink on {host}:{port}, keeping mail in {directory}")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
