"""A local SMTP server that accepts every message and hands it to a store: a Maildir
for ``make run`` and the outbox page, a list in the tests."""

import mailbox
import socket
from collections.abc import Callable
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class SinkHandler:
    def __init__(self, deliver: Callable[[bytes], None]):
        self.deliver = deliver

    async def handle_DATA(  # noqa: N802 (the name aiosmtpd calls)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        self.deliver(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def maildir_store(directory: str | Path) -> Callable[[bytes], None]:
    box = mailbox.Maildir(str(directory), create=True)

    def deliver(raw: bytes) -> None:
        box.add(mailbox.MaildirMessage(raw))

    return deliver


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def start_sink(host: str, port: int, deliver: Callable[[bytes], None]) -> Controller:
    """Start the sink in a thread; ``controller.stop()`` ends it. It takes international
    addresses (SMTPUTF8), as today's mail servers do."""
    controller = Controller(SinkHandler(deliver), hostname=host, port=port, enable_SMTPUTF8=True)
    controller.start()
    return controller
