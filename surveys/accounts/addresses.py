"""E-mail addresses as the import stores them: email_validator's verdict and its normalised
form (NFC, the domain in its Unicode form), in lower case so that re-imports match.

email_validator takes 35-160 µs an address, most of it in work that a plain address does
not need, which made it the largest part of importing 100,000 rows. Plain addresses
(ASCII, or Latin-1 letters before the @-sign, at an ASCII domain) are decided by a
regular expression that accepts only addresses email_validator also accepts, with the
same normalised form; anything else, and every address refused, goes to email_validator
itself (its verdicts and messages, through a bounded cache). ``tests/test_addresses.py``
holds the fast path to email_validator's verdicts.
"""

import re
from functools import lru_cache

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

# Before the @-sign: dot-separated runs of letters, digits and _+'-, where letters may be
# the Latin-1 ones (å, ä, ö, æ, ø, é, ü, ß, ...), which are all letters and NFC already.
_LOCAL_CHARACTER = "[A-Za-z0-9_+'\\-\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff]"
# After it: ASCII hostname labels of at most 63 characters, at least two of them, without
# "--" anywhere (that is Punycode or a refused R-LDH label: email_validator decides), the
# last ending in a letter (every top-level domain does).
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# ... and not a special-use domain such as .local or .test, which email_validator refuses.
_NOT_SPECIAL_USE = "".join(f"(?<![.@](?i:{re.escape(name)}))" for name in SPECIAL_USE_DOMAIN_NAMES)
_PLAIN_ADDRESS = re.compile(
    f"{_LOCAL_CHARACTER}+(?:\\.{_LOCAL_CHARACTER}+)*"
    f"@(?!.*--)(?:{_LABEL}\\.)+{_LABEL}(?<=[A-Za-z]){_NOT_SPECIAL_USE}\\Z"
)
# email_validator's limit is 254 bytes of UTF-8; the characters above take at most two.
_PLAIN_MAX_CHARACTERS = 127


class InvalidAddressError(ValueError):
    """email_validator's reason why the text is not an e-mail address."""


def normalise_address(value: str) -> str:
    """The stored form of an e-mail address, given without surrounding spaces; raises
    ``InvalidAddressError`` with email_validator's reason when it is not one."""
    if len(value) <= _PLAIN_MAX_CHARACTERS and _PLAIN_ADDRESS.match(value):
        return value.lower()
    normalised, reason = _validated(value)
    if normalised is None:
        raise InvalidAddressError(reason)
    return normalised


def plain_addresses(values: list[str]) -> list[str | None]:
    """``normalise_address`` of each value that the fast path decides alone, None for the
    others; for a column of addresses at once."""
    addresses = list(map(str.lower, values))
    matches = list(map(_PLAIN_ADDRESS.match, values))
    if None in matches or max(map(len, values), default=0) > _PLAIN_MAX_CHARACTERS:
        for index, (value, match) in enumerate(zip(values, matches, strict=True)):
            if not match or len(value) > _PLAIN_MAX_CHARACTERS:
                addresses[index] = None
    return addresses


@lru_cache(maxsize=4096)
def _validated(value: str) -> tuple[str | None, str]:
    """email_validator's normalised form in lower case, or None and its reason."""
    try:
        validated = validate_email(value, allow_smtputf8=True, check_deliverability=False)
    except EmailNotValidError as error:
        return None, str(error)
    return validated.normalized.lower(), ""
