"""A multipart/alternative e-mail (text and HTML, both quoted-printable) assembled from
plain values, straight to the bytes an SMTP server receives.

The standard library's ``EmailMessage`` parses every header it is given back into a tree
and refolds it on output: 5 ms a message, more than handing it to the mail server takes,
and its refolding is what turned ``List-Unsubscribe`` into an encoded word. Our messages
have one fixed shape, so this writes them directly (0.2 ms), folding only at whitespace.
"""

import base64
import binascii
import re
import secrets
from email.header import Header

LINE = 78
# Characters that make a display name need quotes (RFC 5322 "specials").
_SPECIALS = re.compile(r'[()<>\[\]:;@\\,."]')


def _check(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError("a header value holds a line break")
    return value


def display_name(name: str, *, utf8: bool) -> str:
    """The display name of an address header, quoted or encoded as it needs."""
    if not name:
        return ""
    if name.isascii() or utf8:
        if _SPECIALS.search(name):
            return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return name
    return "=?utf-8?b?" + base64.b64encode(name.encode()).decode() + "?="


def address(name: str | None, addr_spec: str, *, utf8: bool) -> str:
    shown = display_name(name or "", utf8=utf8)
    return f"{shown} <{addr_spec}>" if shown else addr_spec


def _fold(name: str, value: str) -> str:
    """``Name: value``, folded at spaces into lines of at most LINE characters where it
    can be; a word longer than a line (a URL) stays whole on its line."""
    line, lines = f"{name}:", []
    for word in value.split(" "):
        if len(line) + 1 + len(word) > LINE and line.strip() and line != f"{name}:":
            lines.append(line)
            line = " " + word
        else:
            line += " " + word
    lines.append(line)
    return "\r\n".join(lines)


def header(name: str, value: str, *, utf8: bool = False) -> str:
    """One header line (or folded lines). Non-ASCII text becomes RFC 2047 encoded words
    unless the message goes with SMTPUTF8, where it stays UTF-8 (RFC 6532)."""
    _check(value)
    if value.isascii() or utf8:
        return _fold(name, value)
    return f"{name}: " + Header(value, "utf-8", header_name=name).encode(linesep="\r\n")


def _quoted_printable(text: str) -> bytes:
    encoded = binascii.b2a_qp(text.replace("\r\n", "\n").encode(), istext=True)
    return encoded.replace(b"\n", b"\r\n")


def alternative(headers: list[str], text: str, html: str, *, utf8: bool = False) -> bytes:
    """The whole message: ``headers`` (lines from ``header``), then the two parts."""
    boundary = "=_" + secrets.token_hex(12)
    part = (
        'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    )
    chunks = [
        "\r\n".join(headers).encode("utf-8" if utf8 else "ascii"),
        b"\r\nMIME-Version: 1.0\r\n",
        f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'.encode(),
        f"--{boundary}\r\n".encode(),
        part.format(subtype="plain").encode(),
        _quoted_printable(text),
        f"\r\n--{boundary}\r\n".encode(),
        part.format(subtype="html").encode(),
        _quoted_printable(html),
        f"\r\n--{boundary}--\r\n".encode(),
    ]
    return b"".join(chunks)
