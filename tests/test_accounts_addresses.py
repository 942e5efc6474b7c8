"""The import's e-mail addresses: exactly email_validator's verdicts and normalised forms
(in lower case), whether the fast path or email_validator itself decides."""

import string

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from surveys.accounts.addresses import (
    InvalidAddressError,
    normalise_address,
    plain_addresses,
)


def email_validators_verdict(value: str) -> str | None:
    """What email_validator says: the normalised address in lower case, or None."""
    try:
        validated = validate_email(value, allow_smtputf8=True, check_deliverability=False)
    except EmailNotValidError:
        return None
    return validated.normalized.lower()


def ours(value: str) -> str | None:
    try:
        return normalise_address(value)
    except InvalidAddressError:
        return None


TRICKY = [
    "anna@nordljus.se",
    "Anna.Berg@Nordljus.SE",
    "ÅSA.ÖBERG@BYGG.SE",
    "jörg@exämple.com",
    "JÖRG@EXÄMPLE.COM",
    "jo\u0308rg@exa\u0308mple.com",  # decomposed (NFD) umlauts
    "a@xn--exmple-cua.com",  # Punycode for exämple.com
    "a@xn--zz.com",  # looks like Punycode, is not
    "ab--cd@x.se",
    "a@ab--cd.se",
    "a@a-b.se",
    "a@-ab.se",
    "a@ab-.se",
    "a@a.b-.se",
    "a@sub.domain.co.uk",
    "a..b@x.se",
    ".a@x.se",
    "a.@x.se",
    "a@x..se",
    "a@.x.se",
    "a@x.se.",
    "a@x",
    "a@x.1",
    "a@x.s1",
    "a@1.se",
    "a@x.local",
    "a@x.LOCAL",
    "a@localhost",
    "a@x.test",
    "a@test",
    "a@x.invalid",
    "a@onion.se",
    "a@x.onion",
    "a@x.arpa",
    "a@leverans.example",
    "a@example.com",
    "info@x.se",
    "INFO@x.se",
    "o'brien@x.ie",
    "first+tag@x.se",
    "under_score@x.se",
    "a/b@x.se",
    "a=b@x.se",
    "a{b}@x.se",
    '"quoted"@x.se',
    "a b@x.se",
    "a@b@x.se",
    "a@x.se\n",
    "a\u200b@x.se",
    "a@x\u202e.se",
    "ß@x.de",
    "ÿ@x.se",
    "İ@x.tr",
    "ſ@x.se",
    "\u212aelvin@x.se",  # the Kelvin sign
    "a@x\uff0ese",  # a full-width dot
    "a\uff20x.se",  # a full-width at-sign
    "é@x.se",
    "e\u0301@x.se",
    "×@x.se",
    "a@" + "b" * 63 + ".se",
    "a@" + "b" * 64 + ".se",
    "a" * 64 + "@x.se",
    "a" * 65 + "@x.se",
    "a" * 120 + "@" + "b" * 60 + ".se",
    "a" * 245 + "@x.se",
    "ö" * 120 + "@x.se",
    "ö" * 127 + "@x.se",
    "a@" + ".".join(["b" * 60] * 4) + ".se",
    "",
    "@",
    "a@",
    "@x.se",
]


@pytest.mark.parametrize("value", TRICKY)
def test_tricky_addresses_get_email_validators_verdict(value):
    assert ours(value) == email_validators_verdict(value)
    assert plain_addresses([value])[0] in (None, email_validators_verdict(value))


def test_a_refused_address_says_why_in_email_validators_words():
    with pytest.raises(InvalidAddressError, match="special-use or reserved name"):
        normalise_address("anna@nordljus.local")


LOCAL_CHARACTERS = string.ascii_letters + string.digits + "._+'-" + "åäöÅÄÖæøÆØéüßÿ"
ODD_CHARACTERS = (
    ' .@"(),:;<>[]\\!#$%&*/=?^`{|}~\t\n'
    "\u0301\u0308\u200b\u202e\ufeff\u00a0\u00d7\u00f7\u0130\u017f\u212a\uff0e\uff20"
)
labels = st.text(string.ascii_lowercase + string.ascii_uppercase + string.digits + "-", max_size=66)
top_level = st.sampled_from(
    ["se", "no", "dk", "com", "SE", "co.uk", "local", "test", "arpa", "onion", "x1", "1", "s-e"]
)


@st.composite
def addresses(draw) -> str:
    """Addresses around the edge of the fast path: mostly plausible, with odd characters,
    lengths near every limit, Punycode, special-use domains and misplaced dots."""
    local = draw(st.text(LOCAL_CHARACTERS, min_size=0, max_size=70))
    if draw(st.booleans()):
        local += draw(st.text(ODD_CHARACTERS, max_size=2))
    domain = ".".join(draw(st.lists(labels, min_size=1, max_size=4)) + [draw(top_level)])
    if draw(st.integers(0, 9)) == 0:
        domain = "xn--" + domain
    if draw(st.integers(0, 9)) == 0:
        domain = draw(st.text(ODD_CHARACTERS + "äö", max_size=3)) + domain
    return f"{local}@{domain}"


@settings(max_examples=3000, deadline=None)
@given(addresses())
@example("Anna.Berg@Nordljus.SE")
@example("åsa.öberg@bygg.se")
def test_the_fast_path_gives_email_validators_verdict(value):
    expected = email_validators_verdict(value)
    assert ours(value) == expected
    fast = plain_addresses([value])[0]
    assert fast is None or fast == expected


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40))
def test_any_text_gets_email_validators_verdict(value):
    assert ours(value) == email_validators_verdict(value)


def test_the_fast_path_decides_ordinary_addresses():
    """Not a verdict, a speed: the addresses of an ordinary file never reach
    email_validator."""
    ordinary = ["anna.berg@nordljus.se", "Åsa.Öberg@Bygg-Co.SE", "kam+1@leverantor.co.uk"]
    assert None not in plain_addresses(ordinary)
