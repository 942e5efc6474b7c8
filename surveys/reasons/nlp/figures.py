"""Prices told in numbers and comparisons: "from 800 to 1 300 a month", "nearly twice last
year's", "half of what we pay you", "60k against your 95k", "35 % at renewal".

A number alone is no price ("99 % uptime", "from 2 to 5 days" are not), so each kind asks
for what makes it one: a currency, a rate ("a month", "per user", "i måneden"), a rise or a
cheaper offer beside a percentage, or an anchor of payment beside a multiple ("twice last
year's", "dubbelt så mycket", "halvparten av det vi betaler"). Each figure found is a
feature ``f:<kind>`` of the words it spans, so training decides how much it counts and the
evidence can quote it.
"""

import re
from collections.abc import Sequence
from functools import lru_cache
from itertools import compress

from surveys.reasons.nlp.language import Token
from surveys.reasons.nlp.lexicon import STOPWORDS

AMOUNT = "amount"
RATE = "rate"
RANGE = "range"
PERCENT = "percent"
MULTIPLE = "multiple"
COMPARE = "compare"
KINDS = (AMOUNT, RATE, RANGE, PERCENT, MULTIPLE, COMPARE)

_NUMBER = re.compile(r"\d+(?:k|m|mkr|tkr|kkr|kr|nok|sek|eur|usd)?")
_SCALED = re.compile(r"\d+(?:k|m|mkr|tkr|kkr|kr|nok|sek|eur|usd)")
_CURRENCY = frozenset(
    "$ € £ kr kronor kroner krona krone sek nok eur euro euros usd dollar dollars pound pounds "
    "tkr mkr kkr tusen thousand grand".split()
)
_RATE_AFTER = frozenset(
    "a an per each every monthly yearly annually annual quarterly weekly hourly i om pr "
    "manadsvis arlig arligen manedlig manedlige".split()
)
_RATE_UNIT = frozenset(
    "month months year years seat seats user users licence licences license licenses head "
    "hour hours day employee employees mnd man manad manaden manader ar aret maned maneden "
    "maneder anvandare bruker brukere licens lisens timme timmen time timen dag dagen anstalld "
    "ansatt".split()
)
_PERCENT = frozenset("% percent procent prosent pct".split())
_RISE = frozenset(
    "up increase increased increases rise rose risen raised higher more hike hiked jump jumped "
    "cheaper lower less discount uplift indexation inflation hojning hojningen hojdes hojt "
    "hojde okning okningen okade mer dyrare billigare lagre rabatt upp okte okt okes hoyere "
    "billigere lavere steg prisokning prishojning renewal fornyelse fornyelsen fornyelsen "
    "fornyelsesprisen fornyelsepriset forlangningen".split()
)
_MULTIPLE = frozenset(
    "twice double doubled triple tripled half quadruple dubbelt dubbla dubblat dubblades "
    "fordubblat fordubblades tredubbelt tredubblat halva halften dobbelt doble doblet doblet "
    "tredobbelt tredoblet halvparten halve".split()
)
_TIMES = frozenset("times ganger gang ganger gangen".split())
_ANCHOR = frozenset(
    "what much paid pay paying price prices cost costs costing fee fees last lastyears "
    "budget amount expensive vad mycket betalar betalade betalat priset kostar kostade "
    "forra fjol fjolarets avgiften beloppet summan dyrt det mye betaler betalte prisen "
    "koster kostet ifjor fjor fjoraret belopet summen dyr dyre worth vard verdt".split()
)
_AGAINST = frozenset("against versus vs compared mot jamfort sammenlignet kontra".split())
_FROM = frozenset("from fran fra".split())
_TO = frozenset("to till til".split())
_REACH = 4
_GROUP = re.compile(r"\d{3}")


@lru_cache(maxsize=65536)
def _is_number(word: str) -> bool:
    return _NUMBER.fullmatch(word) is not None


def _amount(words: Sequence[str], index: int) -> tuple[int, int] | None:
    """The span (first, last) of an amount of money around a number at ``index``: a
    currency before or after it ("$12", "1 300 kr", "95k"), joining "1 300" and "2,400"."""
    if not _is_number(words[index]):
        return None
    first = last = index
    while last + 1 < len(words) and words[last + 1].isdigit() and len(words[last + 1]) == 3:
        last += 1
    if _SCALED.fullmatch(words[index]):
        # "95k" is money, "10k records" is not
        following = words[last + 1] if last + 1 < len(words) else ""
        if following.isalpha() and following not in _NOT_COUNTED:
            return None
        return first, last
    if first > 0 and words[first - 1] in _CURRENCY:
        return first - 1, last
    if last + 1 < len(words) and words[last + 1] in _CURRENCY:
        return first, last + 1
    return None


@lru_cache(maxsize=65536)
def _may_start(word: str) -> bool:
    """A word a figure can turn on: a number, a multiple, "times", "against"."""
    return word[:1].isdigit() or word in _MULTIPLE or word in _TIMES or word in _AGAINST


def price_figures(
    tokens: Sequence[Token], words: list[str] | None = None
) -> list[tuple[str, tuple[int, ...]]]:
    """Every price told in figures: (kind, positions of its words). ``words``: the tokens'
    folded forms, when already at hand."""
    if words is None:
        words = [token.folded for token in tokens]
    count = len(words)
    starts = list(compress(range(count), map(_may_start, words)))
    if not starts:
        return []
    found: list[tuple[str, tuple[int, ...]]] = []
    amounts: list[tuple[int, int]] = []
    numbers: list[tuple[int, int]] = []  # (first, last) of each number, "1 300" joined
    for position in starts:
        if not _is_number(words[position]):
            continue
        if numbers and numbers[-1][1] >= position:
            continue  # a group of a number already read: the "300" of "1 300"
        last = position
        while last + 1 < count and _GROUP.fullmatch(words[last + 1]):
            last += 1
        numbers.append((position, last))
        span = _amount(words, position)
        if span is not None:
            amounts.append(span)
            found.append((AMOUNT, tuple(range(span[0], span[1] + 1))))
    first_of_number = {first for first, _ in numbers}
    for position in starts:
        word = words[position]
        if position in first_of_number:
            # "800 a month", "120 kr per användare", "24 000 kr om året"
            end = position
            while end + 1 < count and (words[end + 1].isdigit() or words[end + 1] in _CURRENCY):
                end += 1
            if (
                end + 2 < count
                and words[end + 1] in _RATE_AFTER
                and words[end + 2] in _RATE_UNIT
                or end + 1 < count
                and words[end + 1] in _RATE_UNIT
                and words[end + 1] not in ("ar", "time", "dag", "day")
                and words[position - 1 if position else 0] not in _FROM
                and _near_price_unit(words, end + 1)
            ):
                found.append((RATE, tuple(range(position, min(end + 3, count)))))
            # "from 800 to 1 300", "från 120 till 190 kr"
            if position > 0 and words[position - 1] in _FROM:
                later = next(
                    (
                        after
                        for after in range(position + 1, min(position + 4, count))
                        if words[after] in _TO
                    ),
                    None,
                )
                if later is not None and later + 1 < count and _is_number(words[later + 1]):
                    tail = later + 1
                    while tail + 1 < count and words[tail + 1].isdigit():
                        tail += 1
                    near = words[tail + 1 : tail + 4]
                    if any(w in _CURRENCY or w in _RATE_AFTER or w in _RATE_UNIT for w in near) or (
                        any(start <= position <= end for start, end in amounts)
                    ):
                        found.append((RANGE, tuple(range(position - 1, tail + 1))))
            # "35 % at renewal", "30 procent billigare"
            if position + 1 < count and words[position + 1] in _PERCENT:
                window = words[max(0, position - _REACH) : position + 2 + _REACH]
                if any(other in _RISE for other in window):
                    found.append((PERCENT, (position, position + 1)))
        if word in _MULTIPLE or (word in _TIMES and position > 0 and _counts(words[position - 1])):
            window = words[max(0, position - 2) : position + 1 + _REACH]
            if any(other in _ANCHOR for other in window):
                first = position - 1 if word in _TIMES else position
                found.append((MULTIPLE, tuple(range(first, min(position + 3, count)))))
        if word in _AGAINST:
            # "60k against your 95k", "60 000 mot era 95 000": sums of money, set side by side
            money = amounts + [(first, last) for first, last in numbers if last > first]
            before = any(end < position and position - end <= 2 for _, end in money)
            after = any(start > position and start - position <= 3 for start, _ in money)
            if before and after:
                first = max(start for start, end in money if end < position)
                last = min(end for start, end in money if start > position)
                found.append((COMPARE, tuple(range(first, last + 1))))
    return found


_NOT_COUNTED = (
    STOPWORDS
    | _RATE_AFTER
    | _CURRENCY
    | _AGAINST
    | frozenset(
        "more less extra higher lower cheaper dearer mer mindre billigare billigere dyrare dyrere "
        "hogre hoyere lagre lavere".split()
    )
)


def _near_price_unit(words: Sequence[str], unit: int) -> bool:
    """ "800 kr månaden" needs its currency; "3 users" is no price on its own."""
    return any(word in _CURRENCY for word in words[max(0, unit - 3) : unit])


_COUNT_WORDS = frozenset("two three four five ten tva tre fyra fem tio to fire".split())


def _counts(word: str) -> bool:
    return word.isdigit() or word in _COUNT_WORDS
