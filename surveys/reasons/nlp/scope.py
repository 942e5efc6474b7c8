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
from collections.abc import Sequence
from dataclasses import dataclass

from surveys.reasons.nlp.language import Token
from surveys.reasons.nlp.lexicon import STOPWORDS, scope_words, word_topics

NEGATED = "negated"
CONCEDED = "conceded"
PRAISED = "praised"

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
) -> Scope:
    """The scope of each token. ``phrases`` are the text's listed word sequences (reason or
    scope list, positions) and ``figures`` the positions of prices told in numbers; both
    name topics as words do."""
    count = len(tokens)
    words = [token.folded for token in tokens]
    tags = list(map(scope_words, words))
    topics = list(map(word_topics, words))
    for name, positions in phrases:
        if name in _PHRASE_TAGS:
            for position in positions:
                tags[position] = tags[position] | {name}
        elif name in _REASON_NAMES:
            for position in positions:
                topics[position] = topics[position] | {name}
    for position in figures:
        topics[position] = topics[position] | _PRICE

    sentences, clause_of, part_of, complains, part_complains, triggered = _split(
        text, tokens, words, tags
    )
    set_aside: list[str | None] = [None] * count
    if count < 2 or not triggered:
        return Scope(clause_of, part_of, set_aside, topics, complains, part_complains)
    clauses = _clauses(words, clause_of, tags, topics)
    tagged = [position for position, tag in enumerate(tags) if tag]

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

    if any(set_aside) and not _anything_left(words, topics, set_aside):
        set_aside = [None] * count
    return Scope(clause_of, part_of, set_aside, topics, complains, part_complains)


_PHRASE_TAGS = frozenset(
    ("set_aside", "praise", "complaint", "concession", "concession_inside", "none", "competitor")
)
_REASON_NAMES = frozenset(("price", "attention", "product", "other"))
_PRICE = frozenset(("price",))
_COMPLAINING = frozenset(("complaint", "negator", "none"))
_NEGATING = frozenset(("negator", "none"))
_TRIGGERS = frozenset(
    ("negator", "none", "contrast", "concession", "concession_comma", "praise", "set_aside")
)


def _split(
    text: str, tokens: Sequence[Token], words: list[str], tags: list[frozenset[str]]
) -> tuple[list[int], list[int], list[int], list[bool], list[bool], bool]:
    """Number each token's sentence, clause (split at commas, stronger stops and contrast
    words) and part (a clause split again at "and", "plus", "och", "og"); say which clauses
    and parts complain (a complaint word or a negation), and whether any cue of scope is
    there at all."""
    sentences: list[int] = []
    clauses: list[int] = []
    parts: list[int] = []
    complains = [False]
    part_complains = [False]
    sentence = clause = part = 0
    negated_in_sentence = triggered = False
    # Where the punctuation is, read once: (offset, True for a sentence break).
    marks = [(match.start(), match.lastgroup == "sentence") for match in _BREAK.finditer(text)]
    mark = 0
    for index, token in enumerate(tokens):
        tag = tags[index]
        if index:
            stop = brk = False
            while mark < len(marks) and marks[mark][0] < token.start:
                if marks[mark][0] >= tokens[index - 1].end:
                    brk = True
                    stop = stop or marks[mark][1]
                mark += 1
            if stop:
                sentence += 1
                clause += 1
                part += 1
                complains.append(False)
                part_complains.append(False)
                negated_in_sentence = False
            elif (
                brk
                or (tag and "contrast" in tag)
                or (negated_in_sentence and words[index] in _RATHER)
            ):
                clause += 1
                part += 1
                complains.append(False)
                part_complains.append(False)
            elif tag and "conjunction" in tag:
                part += 1
                part_complains.append(False)
        if tag:
            if not triggered and not tag.isdisjoint(_TRIGGERS):
                triggered = True
            if not tag.isdisjoint(_COMPLAINING):
                complains[clause] = part_complains[part] = True
                if not tag.isdisjoint(_NEGATING):
                    negated_in_sentence = True
        sentences.append(sentence)
        clauses.append(clause)
        parts.append(part)
    return sentences, clauses, parts, complains, part_complains, triggered


def _clauses(
    words: list[str], clause_of: list[int], tags: list[frozenset[str]], topics: list[frozenset[str]]
) -> list[_Clause]:
    clauses: list[_Clause] = []
    start = 0
    count = len(clause_of)
    for position in range(1, count + 1):
        if position < count and clause_of[position] == clause_of[start]:
            continue
        clause = _Clause(start, position, set())
        for index in range(start, position):
            tag = tags[index]
            found = topics[index]
            if found:
                clause.topics |= found
            if not tag:
                if not clause.named and words[index] not in STOPWORDS:
                    clause.named = True
                continue
            if "complaint" in tag:
                clause.complaint = True
            if "competitor" in tag:
                clause.competitor = True
            if "negator" in tag or "none" in tag:
                clause.negation = True
        clause.turns = "contrast" in tags[start]
        clause.praise = not clause.complaint and not clause.competitor and _praises(clause, tags)
        clauses.append(clause)
        start = position
    return clauses


def _praises(clause: _Clause, tags: list[frozenset[str]]) -> bool:
    """A praise word that no negation or "too" in the clause turns around."""
    found = False
    for position in range(clause.start, clause.end):
        tag = tags[position]
        if "negator" in tag or "none" in tag:
            return False
        if "praise" in tag:
            found = True
    return found


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
            if _TOPICS.match(words[after]):
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
        if len(listed) > 5 or any(word in _VERBS for word in listed) or not clause.topics:
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
    # Something else must be left to decide the reason: a topic, a complaint or a negation
    # outside the praise.
    joined = {number for number, clause in enumerate(clauses) if clause.joined_to in praised_set}
    if not any(
        set_aside[position] is None and (topics[position] or clause.complaint or clause.negation)
        for number, clause in enumerate(clauses)
        if number not in praised_set and number not in joined
        for position in range(clause.start, clause.end)
    ):
        return
    for number in praised:
        _mark(set_aside, clauses[number], PRAISED)
    for number in joined:
        _mark(set_aside, clauses[number], PRAISED)


def _anything_left(
    words: list[str], topics: list[frozenset[str]], set_aside: list[str | None]
) -> bool:
    """Keep what was set aside only if something else is left to decide the reason."""
    content = [
        position
        for position, word in enumerate(words)
        if set_aside[position] is None and word not in STOPWORDS
    ]
    return any(topics[position] for position in content) or len(content) >= 2
