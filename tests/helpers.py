"""Steps many tests share: create and send a campaign through the CLI, read the e-mails."""

import re
from email.message import EmailMessage

from flask.testing import FlaskCliRunner

LINK = re.compile(r"https?://[^/\s]+/r/([A-Za-z0-9_-]+)")


def create_campaign(runner: FlaskCliRunner, *options: str, kind: str = "nps") -> int:
    result = runner.invoke(
        args=["campaigns", "create", "--kind", kind, "--name", "Autumn NPS", *options]
    )
    assert result.exit_code == 0, result.output
    return int(result.output.strip().splitlines()[-1])


def send(runner: FlaskCliRunner, campaign_id: int) -> str:
    result = runner.invoke(args=["campaigns", "send", str(campaign_id)])
    assert result.exit_code == 0, result.output
    return result.output


def text_part(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_part(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def token_of(message: EmailMessage) -> str:
    return LINK.search(text_part(message)).group(1)
