"""Handing messages to an SMTP server: one connection reused for many messages, a timeout
on every step, and an answer for each recipient.

The server's refusal of one recipient (at RCPT or at DATA, 4xx or 5xx) is ``RecipientRefusedError``
and leaves the connection usable for the next message. A server that cannot be reached,
stops answering or hangs up is ``MailServerError``; the next ``send`` connects again.
"""

import logging
import smtplib
import ssl
from dataclasses import dataclass
from types import TracebackType

import idna

logger = logging.getLogger(__name__)


class MailServerError(Exception):
    """The mail server could not be reached, stopped answering or hung up."""


class RecipientRefusedError(Exception):
    """This one message cannot go: the server refused it, or it cannot be addressed."""

    def __init__(self, reason: str, code: int | None = None):
        super().__init__(reason)
        self.code = code
        self.reason = reason

    @property
    def permanent(self) -> bool:
        """A 5xx answer: sending the same message again would get the same answer."""
        return self.code is not None and self.code >= 500


@dataclass(frozen=True)
class SMTPSettings:
    server: str
    port: int
    timeout: float
    use_tls: bool = False
    use_ssl: bool = False
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_config(cls, config: dict) -> "SMTPSettings":
        return cls(
            server=config["MAIL_SERVER"],
            port=int(config["MAIL_PORT"]),
            timeout=float(config["MAIL_TIMEOUT"]),
            use_tls=bool(config.get("MAIL_USE_TLS")),
            use_ssl=bool(config.get("MAIL_USE_SSL")),
            username=config.get("MAIL_USERNAME"),
            password=config.get("MAIL_PASSWORD"),
        )

    def __str__(self) -> str:
        return f"{self.server}:{self.port}"


@dataclass(frozen=True)
class Envelope:
    """The addresses of the SMTP dialogue (not the headers): domains in ASCII (IDNA), and
    whether the recipient's local part needs the server's SMTPUTF8."""

    sender: str
    recipient: str
    smtputf8: bool


def ascii_domain(address: str) -> str:
    """``jörg@exämple.com`` -> ``jörg@xn--exmple-cua.com``. ``RecipientRefusedError`` when
    the domain cannot be written in ASCII, or the address holds a control character."""
    if any(ord(character) < 32 or ord(character) == 127 for character in address):
        raise RecipientRefusedError(
            "the address contains a line break or another control character"
        )
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise RecipientRefusedError("the address has no @ between a name and a domain")
    if not domain.isascii():
        try:
            domain = idna.encode(domain, uts46=True).decode("ascii")
        except idna.IDNAError as error:
            raise RecipientRefusedError(
                f"the address's domain is not a valid domain name ({error})"
            ) from None
    return f"{local}@{domain}"


def envelope(sender: str, recipient: str) -> Envelope:
    sender, recipient = ascii_domain(sender), ascii_domain(recipient)
    return Envelope(sender, recipient, smtputf8=not (sender.isascii() and recipient.isascii()))


class SMTPTransport:
    """``with SMTPTransport(settings) as transport: transport.send(data, envelope)``."""

    def __init__(self, settings: SMTPSettings):
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> "SMTPTransport":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def connect(self) -> None:
        """Open the connection now (``send`` opens it when needed)."""
        if self._smtp is not None:
            return
        settings = self.settings
        try:
            if settings.use_ssl:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    settings.server,
                    settings.port,
                    timeout=settings.timeout,
                    context=ssl.create_default_context(),
                )
            else:
                smtp = smtplib.SMTP(settings.server, settings.port, timeout=settings.timeout)
            try:
                smtp.ehlo_or_helo_if_needed()
                if settings.use_tls:
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if settings.username and settings.password:
                    smtp.login(settings.username, settings.password)
            except BaseException:
                smtp.close()
                raise
        except (smtplib.SMTPException, OSError) as error:
            raise MailServerError(
                f"cannot reach the mail server at {settings} ({_describe(error, settings)})"
            ) from None
        self._smtp = smtp

    def send(self, data: bytes, addresses: Envelope) -> None:
        """Hand one message (its bytes, as ``surveys.mail.mime`` builds them) to the
        server for one recipient."""
        self.connect()
        smtp = self._smtp
        assert smtp is not None
        options: list[str] = []
        if addresses.smtputf8:
            if not smtp.has_extn("smtputf8"):
                raise RecipientRefusedError(
                    "the address has non-ASCII letters before the @ and the mail server does "
                    "not offer SMTPUTF8, so it cannot take it"
                )
            options = ["SMTPUTF8", "BODY=8BITMIME"]
        try:
            smtp.sendmail(addresses.sender, [addresses.recipient], data, options)
        except smtplib.SMTPRecipientsRefused as error:
            code, answer = next(iter(error.recipients.values()))
            raise self._refused(code, answer) from None
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as error:
            raise self._refused(error.smtp_code, error.smtp_error) from None
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            raise MailServerError(
                f"the mail server at {self.settings} stopped answering "
                f"({_describe(error, self.settings)})"
            ) from None

    def _refused(self, code: int, answer: bytes | str) -> Exception:
        text = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)
        if code == 421:  # the server is closing the connection: nothing more goes now
            self.close()
            return MailServerError(f"the mail server at {self.settings} said {code} {text}")
        return RecipientRefusedError(f"{code} {text}", code)

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def _describe(error: BaseException, settings: SMTPSettings) -> str:
    if isinstance(error, TimeoutError) or "timed out" in str(error):
        return f"no answer within {settings.timeout:g} s (MAIL_TIMEOUT)"
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error
        text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        return f"{error.smtp_code} {text}"
    return str(error) or type(error).__name__
