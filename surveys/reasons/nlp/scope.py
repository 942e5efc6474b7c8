"""Who is complained about: clauses, and the topics a text only mentions or sets aside.

A survey answer often names a topic without complaining about it: "the price was fine, but
nobody called us", "Support? Great. Licence? Absurd.", "sure, the tool is dated, but the
price hike ...", "never had an outage; the renewal price was out of our range". This module
splits a text into clauses and marks the words of each clause that only

- *negates* a topic or a problem with it ("not about the money", "no complaints about
  support", "the platform is not the problem", "kostnaden har vi inget emot"),
- *concedes* it before a turn ("sure, ..., but", "visst ..., men", "riktignok ..., men"),
- *praises* it beside a complaint about something else ("Vår kontaktperson är jättetrevlig,
  men licensen gick upp igen"; "Support? Great. Licence? Absurd.").

Those words are *set aside*: the features give them only a weak ``x:<reason>`` and the
classifier reports them apart from the evidence. A text that only praises keeps its topics
("our account manager is always there for us" is about attention).

Rules over the cue lists of ``lexicon.SCOPE_WORDS``; pure Python, a few passes over the
tokens.
"""

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import compress

from surveys.reasons.nlp.language import Token
from surveys.reasons.nlp.lexicon import STOPWORDS, on_list, scope_words, word_topics

NEGATED = "negated"
CONCEDED = "conceded"
PRAISED = "praised"
MENTIONED = "mentioned"

# Punctuation between two words that ends a sentence, or only a clause.
_BREAK = re.compile(r"(?P<sentence>[.!?;\n–—]|\s-\s)|(?P<clause>[,:()/&+])")
# A topic fragment and its verdict: "Support? Great.", "Product: solid.", "The bill – steep."
_FRAGMENT_BREAK = re.compile(r"[?:–—.!-]")

# Words after which a negator sets the following topic aside: "it's not the money",
# "det handlar inte om pengarna", "det var ikke tjenesten".
_BEFORE_NEGATOR = frozenset(
    "is was its it thats are were really just ar var er e handlar handler handlade handlet "
    "gallde gjaldt dreide rorde "
    "det och og and so sa overhodet alls absolutt absolut definitely certainly absolutely "
    "egentlig egentligen".split()
)
_FILLERS = frozenset(
    "about the our your their its it a an because of due to really just only so much that "
    "this om for pa bara egentligen direkt precis alls det den var vart vara er ert era "
    "deres dere vare noe nagot sjalva selve necessarily primarily mainly mostly handlar "
    "handler gallde gjaldt all at grund grunn av en ett et ei overhodet".split()
)
_TOPICS = re.compile(
    r"(?:price|pricing|cost|money|fee|budget|bill|invoice|product|software|system|platform|"
    r"tool|app|quality|feature|service|support|people|staff|team|account|manager|"
    r"communication|deliver|pris|kostnad|peng|avgift|gebyr|produkt|tjanst|tjenest|kvalit|"
    r"personal|folk|leverans|verktyg|verktoy|funktion|funksjon|kundtjanst|kundeservice|"
    r"saljare|selger|kontakt|plattform|program|mjukvar|budsjett|faktur|licen|lisens)"
)
# "inte X utan Y", "ikke X, uten Y": after a negation these turn to the real reason.
_RATHER = frozenset(("utan", "uten"))
_NOT_PRAISE_AFTER = frozenset("too not never no alltfor altfor inte ikke aldrig aldri".split())
# Words in a list of topics ("nothing wrong with the service, the staff or the support")
# that start a new statement instead.
_VERBS = frozenset(
    "is was are were its it has have had just simply ar var har hade blev bara er hadde ble "
    "bare den det".split()
)
_FRAGMENT_WORDS = 4
_PROBLEM_REACH = 4


@dataclass(frozen=True, slots=True)
class Scope:
    """Per token: its clause, its part (a clause split again at "and") and why it is set
    aside (``NEGATED``, ``CONCEDED``, ``PRAISED``) or None when it counts."""

    clauses: list[int]
    parts: list[int]
    set_aside: list[str | None]
    topics: list[frozenset[str]]  # per token: the reasons its word, phrase or figure names
    # per clause: it complains (a complaint word or a negation), or only mentions
    complains: list[bool]
    # per part: the same
    part_complains: list[bool]

    @property
    def any_set_aside(self) -> bool:
        return any(self.set_aside)


@dataclass(slots=True)
class _Clause:
    start: int
    end: int  # exclusive
    topics: set[str]
    praise: bool = False
    complaint: bool = False
    competitor: bool = False
    negation: bool = False
    joined_to: int | None = None  # a verdict fragment joined to the topic fragment before it
    named: bool = False  # names something: a word that is no stopword and no cue
    turns: bool = False  # starts with a contrast word: "but ...", "men ..."
    problem: bool = False  # names a problem: "always a problem with the bill"
    nobody: bool = False  # "no", "nobody", "ingen": a negating word that is no bare "not"

    @property
    def size(self) -> int:
        return self.end - self.start

    @property
    def evaluative(self) -> bool:
        return self.praise or self.complaint or self.negation


def read_scope(
    text: str,
    tokens: Sequence[Token],
    phrases: Sequence[tuple[str, tuple[int, ...]]] = (),
    figures: Sequence[int] = (),
    words: list[str] | None = None,
) -> Scope:
    """The scope of each token. ``phrases`` are the text's listed word sequences (reason or
    scope list, positions) and ``figures`` the positions of prices told in numbers; both
    name topics as words do. ``words``: the tokens' folded forms, when already at hand."""
    count = len(tokens)
    if words is None:
        words = [token.folded for token in tokens]
    tags = list(map(scope_words, words))
    topics = list(map(word_topics, words))
    for name, positions in phrases:
        if name in _PHRASE_TAGS:
            for position in positions:
                tags[position] = tags[position] | {name}
        elif name == "contrast_phrase":  # "on the other hand": a turn at its first word
            tags[positions[0]] = tags[positions[0]] | _CONTRAST
        elif name in _REASON_NAMES:
            for position in positions:
                topics[position] = topics[position] | {name}
    for position in figures:
        topics[position] = topics[position] | _PRICE

    sentences, clause_of, part_of, complains, part_complains, triggered, starts = _split(
        text, tokens, words, tags
    )
    set_aside: list[str | None] = [None] * count
    if count < 2 or not triggered:
        return Scope(clause_of, part_of, set_aside, topics, complains, part_complains)
    tagged = list(compress(range(count), tags))
    clauses = _clauses(words, starts, clause_of, tags, tagged, topics)

    _negated_topics(words, tags, tagged, clause_of, clauses, set_aside)
    _negated_problems(words, tags, tagged, clause_of, sentences, clauses, set_aside)
    for name, positions in phrases:
        if name == "set_aside":
            _set_aside_by_cue(positions[0], clause_of, sentences, clauses, words, set_aside)
    for position in tagged:
        if "set_aside" in tags[position]:
            _set_aside_by_cue(position, clause_of, sentences, clauses, words, set_aside)
    _conceded(text, tokens, tags, tagged, phrases, clause_of, sentences, clauses, set_aside)
    _join_fragments(text, tokens, clauses)
    _praised(clauses, clause_of, topics, set_aside)
    _mentioned(words, tags, tagged, topics, clause_of, part_of, part_complains, clauses, set_aside)
    _attention_before_a_turn(words, clauses, set_aside)
    _unused(words, tags, tagged, topics, clause_of, clauses, set_aside)

    if any(set_aside) and not _anything_left(words, tags, topics, set_aside):
        set_aside = [None] * count
    return Scope(clause_of, part_of, set_aside, topics, complains, part_complains)


_PHRASE_TAGS = frozenset(
    ("set_aside", "praise", "complaint", "concession", "concession_inside", "none", "competitor")
)
_REASON_NAMES = frozenset(("price", "attention", "product", "other"))
_PRICE = frozenset(("price",))
_CONTRAST = frozenset(("contrast",))
_ATTENTION = frozenset(("attention",))
_COMPLAINING = frozenset(("complaint", "negator", "none"))
_NEGATING = frozenset(("negator", "none"))
_TRIGGERS = frozenset(
    (
        "negator",
        "none",
        "contrast",
        "concession",
        "concession_comma",
        "praise",
        "set_aside",
        "contact_verb",
        "report_verb",
    )
)


def _split(
    text: str, tokens: Sequence[Token], words: list[str], tags: list[frozenset[str]]
) -> tuple[list[int], list[int], list[int], list[bool], list[bool], bool, list[int]]:
    """Number each token's sentence, clause (split at commas, stronger stops and contrast
    words) and part (a clause split again at "and", "plus", "och", "og"); say which clauses
    and parts complain (a complaint word or a negation), whether any cue of scope is there
    at all, and where each clause starts.

    Only punctuation and words with a cue can change anything, so only they are visited;
    the runs of plain words between them are filled in whole."""
    count = len(tokens)
    breaks: dict[int, bool] = {}  # token index -> a sentence break (True) or a clause break
    if count > 1:
        starts = [token.start for token in tokens]
        for match in _BREAK.finditer(text, starts[0]):
            index = bisect_left(starts, match.start())
            if index < count:
                breaks[index] = breaks.get(index, False) or match.lastgroup == "sentence"
    tagged = list(compress(range(count), tags))
    triggered = any(not tags[index].isdisjoint(_TRIGGERS) for index in tagged)
    sentences: list[int] = []
    clauses: list[int] = []
    parts: list[int] = []
    clause_starts = [0]
    complains = [False]
    part_complains = [False]
    sentence = clause = part = 0
    negated_in_sentence = False
    done = 0
    for index in sorted({*breaks, *tagged}):
        run = index - done
        if run:
            sentences.extend([sentence] * run)
            clauses.extend([clause] * run)
            parts.extend([part] * run)
        tag = tags[index]
        if index:
            stop = breaks.get(index)
            if stop:
                sentence += 1
                clause += 1
                part += 1
                clause_starts.append(index)
                complains.append(False)
                part_complains.append(False)
                negated_in_sentence = False
            elif (
                stop is not None
                or (tag and "contrast" in tag)
                or (negated_in_sentence and words[index] in _RATHER)
            ):
                clause += 1
                part += 1
                clause_starts.append(index)
                complains.append(False)
                part_complains.append(False)
            elif tag and "conjunction" in tag:
                part += 1
                part_complains.append(False)
        if tag and not tag.isdisjoint(_COMPLAINING):
            complains[clause] = part_complains[part] = True
            if not tag.isdisjoint(_NEGATING):
                negated_in_sentence = True
        sentences.append(sentence)
        clauses.append(clause)
        parts.append(part)
        done = index + 1
    run = count - done
    if run > 0:
        sentences.extend([sentence] * run)
        clauses.extend([clause] * run)
        parts.extend([part] * run)
    return sentences, clauses, parts, complains, part_complains, triggered, clause_starts


def _clauses(
    words: list[str],
    clause_starts: list[int],
    clause_of: list[int],
    tags: list[frozenset[str]],
    tagged: list[int],
    topics: list[frozenset[str]],
) -> list[_Clause]:
    """The clauses, with what their words name and say. Reads only the words with a cue or
    a topic, and the words of short clauses."""
    count = len(words)
    ends = [*clause_starts[1:], count]
    clauses = [_Clause(start, end, set()) for start, end in zip(clause_starts, ends, strict=True)]
    for index in compress(range(count), topics):
        clauses[clause_of[index]].topics |= topics[index]
    praising: set[int] = set()
    for index in tagged:
        tag = tags[index]
        clause = clauses[clause_of[index]]
        if "complaint" in tag:
            clause.complaint = True
        if "competitor" in tag:  # a listed phrase: "other vendor", "andra leverantörer"
            clause.competitor = True
        if "negator" in tag or "none" in tag:
            clause.negation = True
        if "none" in tag:
            clause.nobody = True
        if "problem" in tag:
            clause.problem = True
        if "praise" in tag:
            praising.add(clause_of[index])
    for number in praising:  # praise of a competitor is no praise of us
        clause = clauses[number]
        if any(on_list("competitor", words[index]) for index in range(clause.start, clause.end)):
            clause.competitor = True
    for number, clause in enumerate(clauses):
        clause.turns = "contrast" in tags[clause.start]
        # a praise word that no negation or complaint in the clause turns around
        clause.praise = (
            number in praising
            and not clause.complaint
            and not clause.competitor
            and not clause.negation
        )
        if clause.size <= _FRAGMENT_WORDS:
            clause.named = any(
                not tags[index] and words[index] not in STOPWORDS
                for index in range(clause.start, clause.end)
            )
    return clauses


def _mark(set_aside: list[str | None], clause: _Clause, why: str, overwrite: bool = False) -> None:
    for position in range(clause.start, clause.end):
        if overwrite or set_aside[position] is None:
            set_aside[position] = why


def _negated_topics(
    words: list[str],
    tags: list[frozenset[str]],
    tagged: list[int],
    clause_of: list[int],
    clauses: list[_Clause],
    set_aside: list[str | None],
) -> None:
    """ "not (about) the price", "inte priset", "ikke prisen": the clause is set aside."""
    count = len(words)
    for index in tagged:
        if "negator" not in tags[index]:
            continue
        at_start = index == 0 or clause_of[index - 1] != clause_of[index]
        if not at_start and words[index - 1] not in _BEFORE_NEGATOR:
            continue
        for after in range(index + 1, min(index + 5, count)):
            if clause_of[after] != clause_of[index]:
                break
            if _TOPICS.match(words[after]) or "discontent" in tags[after]:
                # "not the price", "not unhappy with the price"
                _mark(set_aside, clauses[clause_of[index]], NEGATED)
                break
            if words[after] not in _FILLERS:
                break


def _negated_problems(
    words: list[str],
    tags: list[frozenset[str]],
    tagged: list[int],
    clause_of: list[int],
    sentences: list[int],
    clauses: list[_Clause],
    set_aside: list[str | None],
) -> None:
    """ "no complaints about support", "never had a single outage", "the platform is not
    the problem", "inga problem med leveranserna": the problem is denied, so the topic with
    it is set aside."""
    count = len(words)
    for index in tagged:
        tag = tags[index]
        if "negator" not in tag and "none" not in tag:
            continue
        for after in range(index + 1, min(index + 1 + _PROBLEM_REACH, count)):
            if clause_of[after] != clause_of[index]:
                break
            if "problem" in tags[after]:
                for number in _cue_scope(index, clause_of, sentences, clauses, words):
                    _mark(set_aside, clauses[number], NEGATED)
                break
            if "problem_filler" not in tags[after] and words[after] not in _FILLERS:
                break


def _set_aside_by_cue(
    index: int,
    clause_of: list[int],
    sentences: list[int],
    clauses: list[_Clause],
    words: list[str],
    set_aside: list[str | None],
) -> None:
    for number in _cue_scope(index, clause_of, sentences, clauses, words):
        _mark(set_aside, clauses[number], NEGATED)


def _cue_scope(
    index: int,
    clause_of: list[int],
    sentences: list[int],
    clauses: list[_Clause],
    words: list[str],
) -> list[int]:
    """The clauses a set-aside cue covers: its own, then the following short clauses that go
    on listing topics ("nothing wrong with the service, the staff or the support"); or, when
    its own clause names no topic ("no complaints there", "that's not why we left"), the
    nearest clause before it that does, in its sentence or the one before."""
    own = clause_of[index]
    scope = [own]
    for number in range(own + 1, len(clauses)):
        clause = clauses[number]
        if sentences[clause.start] != sentences[index] or clause.turns:
            break
        listed = words[clause.start : clause.end]
        if (
            len(listed) > 5
            or any(word in _VERBS for word in listed)
            or not clause.topics
            or clause.complaint
            or clause.negation
            or clause.problem
        ):
            break
        scope.append(number)
    if not clauses[own].topics:
        for number in range(own - 1, -1, -1):
            clause = clauses[number]
            if sentences[index] - sentences[clause.start] > 1:
                break
            if clause.topics:
                scope.append(number)
                break
    return scope


def _conceded(
    text: str,
    tokens: Sequence[Token],
    tags: list[frozenset[str]],
    tagged: list[int],
    phrases: Sequence[tuple[str, tuple[int, ...]]],
    clause_of: list[int],
    sentences: list[int],
    clauses: list[_Clause],
    set_aside: list[str | None],
) -> None:
    """ "Sure, the onboarding was smooth, but ...", "Visst är verktyget lite föråldrat, men
    ...", "Supporten er rask, det skal de ha, men ...": what is conceded before the turn is
    set aside."""
    count = len(tokens)
    starts: list[tuple[int, bool]] = []  # (position, reaches back to the clause before)
    for position in tagged:
        tag = tags[position]
        first = position == 0 or clause_of[position - 1] != clause_of[position]
        if "concession" in tag and position - clauses[clause_of[position]].start <= 1:
            starts.append((position, False))
        elif "concession_comma" in tag and first and position + 1 < count:
            if "," in text[tokens[position].end : tokens[position + 1].start]:
                starts.append((position, False))
    for name, positions in phrases:
        if name == "concession" and positions[0] - clauses[clause_of[positions[0]]].start <= 1:
            starts.append((positions[0], False))
        elif name == "concession_inside":
            starts.append((positions[0], True))
    for position, back in starts:
        turn = next(
            (
                later
                for later in tagged
                if later > position
                and "contrast" in tags[later]
                and sentences[later] - sentences[position] <= 1
            ),
            None,
        )
        if turn is None:
            continue
        first = clauses[clause_of[position]].start
        if back and clause_of[position] > 0:
            before = clauses[clause_of[position] - 1]
            if sentences[before.start] == sentences[position]:
                first = before.start
        for index in range(first, turn):
            if set_aside[index] is None:
                set_aside[index] = CONCEDED


def _join_fragments(text: str, tokens: Sequence[Token], clauses: list[_Clause]) -> None:
    """ "Support? Great.": a short topic without a verdict takes the verdict of the short
    fragment after it."""
    for number in range(len(clauses) - 1):
        topic, verdict = clauses[number], clauses[number + 1]
        if (
            topic.named
            and not topic.evaluative
            and topic.size <= _FRAGMENT_WORDS
            and verdict.evaluative
            and verdict.size <= _FRAGMENT_WORDS
            and _FRAGMENT_BREAK.search(
                text[tokens[topic.end - 1].end : tokens[verdict.start].start]
            )
        ):
            topic.praise, topic.complaint = verdict.praise, verdict.complaint or verdict.negation
            verdict.joined_to = number


def _praised(
    clauses: list[_Clause],
    clause_of: list[int],
    topics: list[frozenset[str]],
    set_aside: list[str | None],
) -> None:
    """Beside a complaint, a clause that only praises a topic is set aside. A text that only
    praises keeps its topics."""
    praised = [
        number
        for number, clause in enumerate(clauses)
        if clause.praise and clause.joined_to is None
    ]
    if not praised:
        return
    praised_set = set(praised)
    # Something else must be left to decide the reason: a topic, a complaint or a "nobody"
    # outside the praise. A bare "not" is no such thing: "your prices work for big
    # companies, not for an office of five" still speaks of the price.
    joined = {number for number, clause in enumerate(clauses) if clause.joined_to in praised_set}
    if not any(
        set_aside[position] is None and (topics[position] or clause.complaint or clause.nobody)
        for number, clause in enumerate(clauses)
        if number not in praised_set and number not in joined
        for position in range(clause.start, clause.end)
    ):
        return
    for number in praised:
        _mark(set_aside, clauses[number], PRAISED)
    for number in joined:
        _mark(set_aside, clauses[number], PRAISED)


def _mentioned(
    words: list[str],
    tags: list[frozenset[str]],
    tagged: list[int],
    topics: list[frozenset[str]],
    clause_of: list[int],
    part_of: list[int],
    part_complains: list[bool],
    clauses: list[_Clause],
    set_aside: list[str | None],
) -> None:
    """Attention words that are no complaint about attention, in a text about another
    reason: the customer reaching someone about that reason ("we called three other
    vendors, all cheaper", "vi ringde tre andra leverantörer") in words that complain of
    nothing, and a messenger ("support confirmed it is a known bug", "our seller told us the
    price would rise"). "We called three times" alone stays a complaint."""
    count = len(words)
    elsewhere = any(clause.topics - _ATTENTION for clause in clauses)
    for index in tagged:
        tag = tags[index]
        if not elsewhere:
            return
        if (
            "contact_verb" in tag
            and clauses[clause_of[index]].topics - _ATTENTION
            and not part_complains[part_of[index]]
        ):
            subject = index - 1
            if subject >= 0 and words[subject] in _ADVERBS:
                subject -= 1
            if subject < 0 or not on_list("customer", words[subject]):
                continue
            set_aside[index] = set_aside[index] or MENTIONED
            for after in range(index + 1, min(index + 4, count)):
                if clause_of[after] != clause_of[index]:
                    break
                if "attention" in topics[after] and set_aside[after] is None:
                    set_aside[after] = MENTIONED
        elif "report_verb" in tag:
            # the attention words right before it: "the account manager", "selgeren vår"
            before = index - 1
            while before >= 0 and words[before] in _MESSENGER_FILLERS:
                before -= 1
            first = before
            while (
                first >= 0 and "attention" in topics[first] and clause_of[first] == clause_of[index]
            ):
                first -= 1
            for position in range(first + 1, before + 1):
                if set_aside[position] is None:
                    set_aside[position] = MENTIONED


def _attention_before_a_turn(
    words: list[str], clauses: list[_Clause], set_aside: list[str | None]
) -> None:
    """ "Support answered every ticket, but we cannot justify the cost", "they always pick up
    the phone, yet the devices keep failing": what is said of attention without complaint
    just before a turn to a complaint is conceded, like praise."""
    for number in range(1, len(clauses)):
        turn, before = clauses[number], clauses[number - 1]
        if not turn.turns or not _complains(turn) or before.topics != _ATTENTION:
            continue
        if not turn.topics - _ATTENTION:  # "you promised meetings, but we had none"
            continue
        if _complains(before) or before.problem or _competitor(before, words):
            continue
        if any(set_aside[position] for position in range(before.start, before.end)):
            continue
        _mark(set_aside, before, CONCEDED)


def _unused(
    words: list[str],
    tags: list[frozenset[str]],
    tagged: list[int],
    topics: list[frozenset[str]],
    clause_of: list[int],
    clauses: list[_Clause],
    set_aside: list[str | None],
) -> None:
    """ "Paying for features we don't use", "vi använde aldrig hälften av modulerna": beside
    a price, what is not used is what is paid for, not a product complaint."""
    if not any("price" in clause.topics for clause in clauses):
        return
    count = len(words)
    seldom = [index for index in tagged if words[index] in _SELDOM]
    near_seldom = {
        other for index in seldom for other in (index - 1, index + 1, index + 2) if other < count
    }
    for index in sorted(near_seldom):
        if not on_list("usage", words[index]):
            continue
        clause = clause_of[index]
        if clauses[clause].complaint or clauses[clause].problem:
            continue  # "we couldn't use the app because it crashed" is a complaint
        near = [
            other
            for other in (index - 2, index - 1, index + 1)
            if 0 <= other < len(words) and clause_of[other] == clause
        ]
        if not any(words[other] in _SELDOM for other in near):
            continue
        for position in range(clauses[clause].start, clauses[clause].end):
            if "product" in topics[position] and set_aside[position] is None:
                set_aside[position] = MENTIONED


# Not using something (not "could not": that is a complaint).
_SELDOM = frozenset(
    "not dont didnt doesnt never hardly barely rarely seldom inte ej aldrig knappt sallan "
    "ikke ikkje aldri knapt sjelden sjeldent".split()
)


def _competitor(clause: _Clause, words: list[str]) -> bool:
    return clause.competitor or any(
        on_list("competitor", words[index]) for index in range(clause.start, clause.end)
    )


def _complains(clause: _Clause) -> bool:
    return clause.complaint or clause.negation


_ADVERBS = frozenset(
    "also then first even already just finally ocksa sedan forst aven bara "
    "ogsa sa da endelig bare".split()
)
# Between a messenger and its verb: "selgeren vår fortalte", "our rep also said".
_MESSENGER_FILLERS = frozenset("var vart vara vare deres er ert also ocksa ogsa".split())


def _anything_left(
    words: list[str],
    tags: list[frozenset[str]],
    topics: list[frozenset[str]],
    set_aside: list[str | None],
) -> bool:
    """Keep what was set aside only if something else is left to decide the reason: a
    topic, two words, or a word with a complaint or a negation ("the reporting is not")."""
    left = [position for position in range(len(words)) if set_aside[position] is None]
    content = [position for position in left if words[position] not in STOPWORDS]
    if any(topics[position] for position in content) or len(content) >= 2:
        return True
    return bool(content) and any(not tags[position].isdisjoint(_COMPLAINING) for position in left)
