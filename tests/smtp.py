"""Real SMTP servers that misbehave the way mail servers do: refuse a recipient at RCPT or
at DATA, hang up in the middle, never greet, or lack SMTPUTF8."""

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from surveys.outbox.sink import free_port


class FaultyHandler:
    """Accepts every message except where told: ``at_rcpt[address]`` and
    ``at_data[address]`` are the replies that refuse that recipient; ``hang_up_at`` is an
    address whose DATA makes the server drop the connection without an answer."""

    def __init__(self) -> None:
        self.at_rcpt: dict[str, str] = {}
        self.at_data: dict[str, str] = {}
        self.hang_up_at: set[str] = set()
        # Seconds each DATA takes before the answer: a slow server.
        self.delay = 0.0
        self.received: list[tuple[list[str], bytes]] = []
        self.attempts: list[str] = []

    async def handle_RCPT(  # noqa: N802 (the name aiosmtpd calls)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        self.attempts.append(address)
        if address in self.at_rcpt:
            return self.at_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        for address in envelope.rcpt_tos:
            if address in self.hang_up_at:
                self.hang_up_at.discard(address)  # once: the next connection works
                server.transport.close()
                return "421 gone"  # never reaches the client
            if address in self.at_data:
                return self.at_data[address]
        self.received.append((list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted for delivery"

    def recipients(self) -> list[str]:
        return [address for tos, _ in self.received for address in tos]

    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(raw, policy=policy.default) for _, raw in self.received]


@contextmanager
def faulty_server(*, smtputf8: bool = True) -> Iterator[tuple[FaultyHandler, int]]:
    handler = FaultyHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, enable_SMTPUTF8=smtputf8)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@contextmanager
def silent_server() -> Iterator[int]:
    """Accepts connections and never says a word: no greeting, no reply."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    connections: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                connections.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for connection in connections:
            connection.close()
        listener.close()
