"""Steps many tests share: create and send a campaign through the CLI, read the e-mails."""

import re
from email.message import EmailMessage

from flask.testing import FlaskCliRunner

from surveys.delivery.queue import wait_for_background

LINK = re.compile(r"https?://[^/\s]+/r/([A-Za-z0-9_-]+)")


def create_campaign(runner: FlaskCliRunner, *options: str, kind: str = "nps") -> int:
    result = runner.invoke(
        args=["campaigns", "create", "--kind", kind, "--name", "Autumn NPS", *options]
    )
    assert result.exit_code == 0, result.output
    return int(result.output.strip().splitlines()[-1])


def send(runner: FlaskCliRunner, campaign_id: int) -> str:
    # A sender a web request started in this process (a follow-up's alert) would share
    # the queue with this command and could still hold its invitations when it returns;
    # in production the command is a process of its own.
    wait_for_background()
    result = runner.invoke(args=["campaigns", "send", str(campaign_id)])
    assert result.exit_code == 0, result.output
    return result.output


def text_part(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_part(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def token_of(message: EmailMessage) -> str:
    return LINK.search(text_part(message)).group(1)
