"""Turn a survey answer into the sparse features the reason classifier weighs.

Shared by training (``surveys.reasons.nlp.training``) and inference
(``surveys.reasons.nlp.model``), so both see exactly the same features. Text is folded
first (lower case, å/ä -> a, ö/ø -> o, æ -> ae), so "hor av sig" and "hör av sig" agree.

Per word: its Snowball stems (Swedish, Norwegian and English stemmers, offline), its
character 3-5-grams (robust to typos) and the reason word lists (``lexicon``) it is on; a
word the training never saw also borrows the features of its known compound parts or of the
known word it is probably a misspelling of. Per text: stem bigrams within a clause, word-list
phrases and a length bucket.

Negation and contrast: a clause that only sets a topic aside ("the price was fine, but ...",
"not about the money", "inget fel på produkten", "verken produktet eller prisen") is
*dismissed*: its words give only a weak ``x:<reason>`` feature instead of their usual ones,
so the reason that follows decides.

Vectors: each word, word pair or phrase is a *unit* of weighted feature counts; a text's
vector is the sum of its units divided by the root of the sum of their squared norms, so a
classifier can cache each word's contribution.
"""

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from surveys.reasons.nlp.labels import REASONS
from surveys.reasons.nlp.language import Token, tokenize
from surveys.reasons.nlp.lexicon import REASON_WORDS

_SENTENCE_BREAK = re.compile(r"[.!?;\n–—]|\s-\s|\.\.")
_CLAUSE_BREAK = re.compile(r"[,:()/&+]")

_CONTRAST = frozenset(
    "but however though although yet except men dock daremot derimot likval likevel".split()
)
_PROBLEM = frozenset("problem problems issue problemet problemene problemen".split())
# "it's just that ...", "det är bara att ...": after praise these turn to the real reason.
_TURN = frozenset(
    "just simply only bara bare enbart bothers annoys frustrates irriterar irriterer "
    "plager frustrerar frustrerer".split()
)
_TURNING_WORDS = _CONTRAST | _PROBLEM | _TURN
_NEGATORS = frozenset("not isnt wasnt arent werent aint inte ej icke ikke ikkje".split())
# Words after which a negator sets the following topic aside: "it's not the money",
# "det handlar inte om pengarna", "det var ikke tjenesten".
_BEFORE_NEGATOR = frozenset(
    "is was its it thats are were really just ar var er e handlar handler gallde gjaldt "
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
    r"saljare|selger|kontakt|plattform|program|mjukvar|budsjett|faktur)"
)
# Phrases that set their clause aside (with a list of topics that goes on after a comma,
# or the clauses before when their own names no topic), by first word.
_SET_ASIDE: dict[str, list[tuple[str, ...]]] = {}
for _cue in (
    "nothing wrong",
    "nothing to do with",
    "nothing bad",
    "no complaints",
    "no complaint",
    "no problems with",
    "no problem with",
    "no issues with",
    "no issue with",
    "neither",
    "nor",
    "not the problem",
    "not the issue",
    "isnt the problem",
    "isnt the issue",
    "wasnt the problem",
    "wasnt the issue",
    "inget fel",
    "inga fel",
    "inga klagomal",
    "inga problem",
    "inget att anmarka",
    "varken",
    "inte problemet",
    "ingenting galt",
    "ikke noe galt",
    "ingenting a si",
    "ingen klager",
    "ingen problemer",
    "verken",
    "ikke problemet",
):
    _SET_ASIDE.setdefault(_cue.split()[0], []).append(tuple(_cue.split()))
# Praise that, followed by a contrast, sets its clause aside: "the price is OK, but ...".
_FINE = frozenset(
    "fine ok okay good great nice friendly lovely decent reasonable competitive polite "
    "helpful solid excellent acceptable fair within okej bra fin fint trevlig trevliga "
    "rimlig rimligt rimliga konkurrenskraftig konkurrenskraftigt inom funkar fungerar toppen "
    "utmarkt grei greit hyggelig hyggelige rimelig konkurransedyktig innenfor fungerer "
    "virker topp utmerket".split()
)
# Words that start a new statement rather than continue a list of topics.
_VERBS = frozenset(
    "is was are were its it has have had just simply ar var har hade blev bara er hadde ble "
    "bare den det".split()
)
STOPWORDS = frozenset(
    "the a an and or but to of in on at for with from by about is are was were be been it "
    "its this that we us our you your they them their i me my he she not no so too very "
    "just then than there here has have had do does did will would can could och att det "
    "som en ett ar var inte jag vi ni de den har hade med for pa av till fran om men sa "
    "kan sen nar bara er era oss vart vara mig sig og et ikke dere fra til da na seg meg "
    "deres vare ble blev e also ocksa ogsa heller".split()
)

_CHARACTER_NGRAMS = (3, 4, 5)
# A misspelt word's borrowed features count this much (a guess can be wrong).
CORRECTION_FACTOR = 0.6
# Known words that end many words as an inflection or suffix, not as the head of a compound.
_NOT_HEADS = STOPWORDS | frozenset(
    "ingen ingar ingarna ting thing things ever lade lades aren arene igen taler vare varen "
    "vart svart anna bare etter litet samma garna ringer ringar heter heten else elser ande "
    "ende ning ningen less ness ment able tion sion dessa dette inte ikke alls noen nagon "
    "aldrig aldri heller over under efter".split()
)
_LENGTH_BUCKETS = ((1, "1"), (2, "2"), (5, "3-5"), (15, "6-15"), (60, "16-60"))


@dataclass(frozen=True, slots=True)
class Settings:
    """How features are weighted; stored in the model file so inference matches training."""

    word: float = 1.0
    bigram: float = 0.6
    character: float = 0.35
    lexicon: float = 1.0
    compound: float = 0.8
    dismissed: float = 0.5
    length: float = 0.5

    def as_json(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True, slots=True)
class Analysis:
    """A text split into words, and its feature units with the tokens each came from
    (no tokens for whole-text features)."""

    tokens: list[Token]
    dismissed: list[bool]
    units: list[tuple["Unit", tuple[int, ...]]]


class _WordList:
    """One reason's word list: exact words, prefixes and word sequences, all folded."""

    def __init__(self, words: str) -> None:
        exact: set[str] = set()
        prefixes: list[str] = []
        self.sequences: list[tuple[Callable[[str], bool], ...]] = []
        for entry in words.split():
            parts = entry.replace("-", "_").split("_")
            if len(parts) > 1:
                self.sequences.append(tuple(_part_matcher(part) for part in parts if part))
            elif entry.endswith("*"):
                prefixes.append(entry[:-1])
            else:
                exact.add(entry)
        self.exact = frozenset(exact)
        self.prefix = re.compile("|".join(re.escape(prefix) for prefix in sorted(prefixes)))
        # Inside a compound: "ekstragebyrene", "lågprioriterad", "ekonomisystemet".
        self.infix = re.compile(
            "|".join(
                f"(?<=..){re.escape(prefix)}" for prefix in sorted(prefixes) if len(prefix) >= 4
            )
        )

    def matches(self, word: str) -> bool:
        if word in self.exact or self.prefix.match(word) is not None:
            return True
        # A negated word: "opålitlig", "ustabil", "unaffordable" are about the same topic.
        if len(word) > 6 and word[0] in "ou" and self.prefix.match(word, 1):
            return True
        return len(word) > 7 and word.startswith("un") and self.prefix.match(word, 2) is not None

    def matches_inside(self, word: str) -> bool:
        return self.infix.search(word) is not None and not _NOT_COMPOUNDS.match(word)


# English words that only look like compounds of listed words ("sur-prise").
_NOT_COMPOUNDS = re.compile(r"surpris|enterpris|compris|apprais|comprom|unsupport")


def _part_matcher(part: str) -> Callable[[str], bool]:
    if part.endswith("*"):
        stem = part[:-1]
        return lambda word: word.startswith(stem)
    return lambda word: word == part


_WORD_LISTS = {reason: _WordList(words) for reason, words in REASON_WORDS.items()}


@lru_cache(maxsize=65536)
def word_reasons(folded: str) -> tuple[str, ...]:
    """The reasons whose word list holds this (folded) word."""
    return tuple(reason for reason in REASONS if _WORD_LISTS[reason].matches(folded))


@lru_cache(maxsize=65536)
def compound_reasons(folded: str) -> tuple[str, ...]:
    """The reasons whose word list holds a part inside this compound word (and not the
    whole word)."""
    whole = word_reasons(folded)
    return tuple(
        reason
        for reason in REASONS
        if reason not in whole and _WORD_LISTS[reason].matches_inside(folded)
    )


class Stemmer:
    """Snowball stems of a folded word by the Swedish, Norwegian and English stemmers.

    NLTK is imported on first use, so importing this module stays cheap.
    """

    def __init__(self) -> None:
        self._stemmers: list[Callable[[str], str]] | None = None
        self._cache: dict[str, tuple[str, ...]] = {}

    def stems(self, folded: str) -> tuple[str, ...]:
        cached = self._cache.get(folded)
        if cached is not None:
            return cached
        if self._stemmers is None:
            from nltk.stem.snowball import SnowballStemmer

            self._stemmers = [
                SnowballStemmer(language).stem for language in ("swedish", "norwegian", "english")
            ]
        if len(folded) <= 3 or not folded.isalpha():
            stems: tuple[str, ...] = (folded,)
        else:
            stems = tuple(dict.fromkeys(stem(folded) for stem in self._stemmers))
        if len(self._cache) < 200_000:
            self._cache[folded] = stems
        return stems


class FeatureExtractor:
    """Features of texts.

    ``known_words`` (the folded words of the training texts, most frequent first) lets a word
    the training never saw borrow features: a compound those of its known parts
    ("månadsavgift" -> "avgift", "uppföljningsmöte" -> "uppföljning" + "möte"), a misspelt
    word those of the known word one edit away ("expnsive" -> "expensive").
    """

    def __init__(self, settings: Settings | None = None, known_words: Sequence[str] = ()) -> None:
        self.settings = settings or Settings()
        self.known_words = frozenset(known_words)
        self._rank = {word: rank for rank, word in enumerate(known_words)}
        self._deletions: dict[str, list[str]] | None = None
        self.stemmer = Stemmer()
        self._word_cache: dict[str, Unit] = {}
        self._single_cache: dict[str, Unit] = {}
        self._group_weight = {
            prefix: weight(self.settings) for prefix, weight in _GROUP_WEIGHT.items()
        }

    def analyse(self, text: str, tokens: list[Token] | None = None) -> Analysis:
        if tokens is None:
            tokens = tokenize(text)
        words = [token.folded for token in tokens]
        clauses, segments = _split(text, tokens)
        dismissed = _dismissed(words, clauses, segments)
        units: list[tuple[Unit, tuple[int, ...]]] = []
        heads: list[str | None] = []
        any_dismissed = True in dismissed
        for index, word in enumerate(words):
            if any_dismissed and dismissed[index]:
                heads.append(None)
                reasons = word_reasons(word)
                if reasons:
                    units.append((self._unit(tuple("x:" + reason for reason in reasons)), (index,)))
                continue
            unit = self._word_cache.get(word) or self.word_unit(word)
            heads.append(unit.head)
            units.append((unit, (index,)))
        previous = None
        for index, head in enumerate(heads):
            if head is not None and previous is not None and clauses[index] == clauses[index - 1]:
                units.append((self._single("b:" + previous + " " + head), (index - 1, index)))
            previous = head
        for reason, positions in _sequence_matches(words):
            prefix = "x:" if all(dismissed[index] for index in positions) else "l:"
            units.append((self._single(prefix + reason), positions))
        units.append((self._single("n:" + _length_bucket(len(tokens))), ()))
        return Analysis(tokens, dismissed, units)

    def word_unit(self, word: str) -> "Unit":
        """The features of one (folded, not set-aside) word: stems, character n-grams and
        word lists. Cached: a text is mostly words seen before."""
        cached = self._word_cache.get(word)
        if cached is not None:
            return cached
        names = ["w:" + stem for stem in self.stemmer.stems(word)]
        if len(word) >= 2 and word.isalpha():
            padded = "<" + word + ">"
            for size in _CHARACTER_NGRAMS:
                names.extend("c:" + padded[i : i + size] for i in range(len(padded) - size + 1))
        names.extend("l:" + reason for reason in word_reasons(word))
        names.extend("k:" + reason for reason in compound_reasons(word))
        borrowed: list[str] = []
        factor = 1.0
        if self.known_words and word not in self.known_words:
            parts = self.compound_parts(word)
            if not parts:
                parts = self.correction(word)
                factor = CORRECTION_FACTOR
            for part in parts:
                borrowed.extend(self._part_features(part))
        unit = self._unit(
            tuple(names),
            key="=" + word,
            head=self.stemmer.stems(word)[0],
            borrowed=(tuple(borrowed), factor),
        )
        if len(self._word_cache) < 200_000:
            self._word_cache[word] = unit
        return unit

    def compound_parts(self, word: str) -> list[str]:
        """Known words that an unknown compound is made of: the longest known ending of at
        least four letters, and the known beginning before it (a linking -s or -e dropped)."""
        if len(word) < 7 or not word.isalpha():
            return []
        known = self.known_words
        for split in range(3, len(word) - 3):
            head = word[split:]
            if head not in known or head in _NOT_HEADS:
                continue
            parts = [head]
            modifier = word[:split]
            if modifier in known:
                parts.append(modifier)
            elif len(modifier) > 3 and modifier[-1] in "se" and modifier[:-1] in known:
                parts.append(modifier[:-1])
            return parts
        return []

    def correction(self, word: str) -> list[str]:
        """The most frequent known word one deletion, insertion or substitution away from an
        unknown word of six letters or more that starts with the same letter (as a one-item
        list), else nothing."""
        if len(word) < 6 or not word.isalpha():
            return []
        if self._deletions is None:
            deletions: dict[str, list[str]] = {}
            for known in sorted(self.known_words, key=self._rank.__getitem__):
                if len(known) >= 4:
                    for variant in _deletions(known):
                        deletions.setdefault(variant, []).append(known)
            self._deletions = deletions
        candidates = {known for known in _deletions(word) if known in self.known_words}
        candidates.update(self._deletions.get(word, ()))
        for variant in _deletions(word):
            candidates.update(self._deletions.get(variant, ()))
        candidates = {known for known in candidates if known[0] == word[0] and known != word}
        if not candidates:
            return []
        return [min(candidates, key=lambda known: (self._rank[known], known))]

    def _part_features(self, word: str) -> list[str]:
        names = ["w:" + stem for stem in self.stemmer.stems(word)]
        padded = "<" + word + ">"
        for size in _CHARACTER_NGRAMS:
            names.extend("c:" + padded[i : i + size] for i in range(len(padded) - size + 1))
        names.extend("l:" + reason for reason in word_reasons(word))
        return names

    def _single(self, name: str) -> "Unit":
        """The unit of a single feature (a word pair, a phrase, the length), cached."""
        unit = self._single_cache.get(name)
        if unit is None:
            unit = Unit(name, {name: self._group_weight[name[0]]})
            if len(self._single_cache) < 200_000:
                self._single_cache[name] = unit
        return unit

    def _unit(
        self,
        names: tuple[str, ...],
        key: str | None = None,
        head: str | None = None,
        borrowed: tuple[tuple[str, ...], float] = ((), 1.0),
    ) -> "Unit":
        values: dict[str, float] = {}
        for name in names:
            values[name] = values.get(name, 0.0) + self._group_weight[name[0]]
        other_names, factor = borrowed
        for name in other_names:
            values[name] = values.get(name, 0.0) + self._group_weight[name[0]] * factor
        return Unit(key if key is not None else " & ".join(names), values, head)

    @staticmethod
    def vector(analysis: Analysis) -> dict[str, float]:
        """Feature values of one text: the sum of its units' weighted counts, divided by the
        root of the sum of the units' squared norms (an L2 norm that ignores overlaps between
        units, so a word's share can be computed once per word)."""
        values: dict[str, float] = {}
        squared = 0.0
        for unit, _ in analysis.units:
            squared += unit.squared_norm
            for name, value in unit.values.items():
                values[name] = values.get(name, 0.0) + value
        norm = math.sqrt(squared) or 1.0
        return {name: value / norm for name, value in values.items()}


@dataclass(frozen=True, slots=True)
class Unit:
    """Features that come together: one word's, one word pair's, one phrase's."""

    key: str  # "=word" for a word's features, else the feature names: equal keys, equal units
    values: dict[str, float]
    head: str | None = None  # a word's first stem, for word pairs
    squared_norm: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "squared_norm", sum(value * value for value in self.values.values())
        )


_GROUP_WEIGHT: dict[str, Callable[[Settings], float]] = {
    "w": lambda settings: settings.word,
    "b": lambda settings: settings.bigram,
    "c": lambda settings: settings.character,
    "l": lambda settings: settings.lexicon,
    "k": lambda settings: settings.compound,
    "x": lambda settings: settings.dismissed,
    "n": lambda settings: settings.length,
}


def known_words(texts: Iterable[str]) -> list[str]:
    """The folded words (three letters or more) of the training texts, most frequent first:
    what unknown compounds are split into and misspellings corrected to."""
    counts: dict[str, int] = {}
    for text in texts:
        for token in tokenize(text):
            if len(token.folded) >= 3 and token.folded.isalpha():
                counts[token.folded] = counts.get(token.folded, 0) + 1
    return sorted(counts, key=lambda word: (-counts[word], word))


def _deletions(word: str) -> set[str]:
    return {word[:position] + word[position + 1 :] for position in range(len(word))}


def _length_bucket(count: int) -> str:
    for limit, name in _LENGTH_BUCKETS:
        if count <= limit:
            return name
    return "61+"


def _split(text: str, tokens: Sequence[Token]) -> tuple[list[int], list[int]]:
    """Number each token's clause (split at commas and stronger) and segment (split at
    sentence ends); contrast words ("but", "men") start both anew."""
    clauses: list[int] = []
    segments: list[int] = []
    clause = segment = 0
    previous_end = 0
    for token in tokens:
        gap = text[previous_end : token.start]
        if gap == " ":
            if token.folded in _CONTRAST:
                clause += 1
                segment += 1
        elif _SENTENCE_BREAK.search(gap) or token.folded in _CONTRAST:
            clause += 1
            segment += 1
        elif _CLAUSE_BREAK.search(gap):
            clause += 1
        clauses.append(clause)
        segments.append(segment)
        previous_end = token.end
    return clauses, segments


def _dismissed(words: Sequence[str], clauses: list[int], segments: list[int]) -> list[bool]:
    count = len(words)
    dismissed = [False] * count
    if count < 3 or _TRIGGERS.isdisjoint(words):
        return dismissed
    # "not (about) the price": the clause is set aside.
    for index, word in enumerate(words):
        if word not in _NEGATORS:
            continue
        at_start = index == 0 or clauses[index - 1] != clauses[index]
        if not at_start and words[index - 1] not in _BEFORE_NEGATOR:
            continue
        for after in range(index + 1, min(index + 5, count)):
            if clauses[after] != clauses[index]:
                break
            if _TOPICS.match(words[after]):
                _mark(dismissed, clauses, clauses[index])
                break
            if words[after] not in _FILLERS:
                break
    # "nothing wrong with the product", "verken X eller Y", "X was not the problem".
    for index, word in enumerate(words):
        for cue in _SET_ASIDE.get(word, ()):
            if tuple(words[index : index + len(cue)]) == cue:
                for clause in _cue_scope(words, clauses, segments, index):
                    _mark(dismissed, clauses, clause)
    # "the price was fine, but ...", "support is OK, it's just that ...": a clause that
    # praises a topic before a turn to something else is set aside.
    last_turn = max(
        (index for index, word in enumerate(words) if word in _TURNING_WORDS), default=-1
    )
    if last_turn > 0:
        praised: set[int] = set()
        topical: set[int] = set()
        for index in range(last_turn):
            if words[index] in _FINE:
                praised.add(clauses[index])
            if word_reasons(words[index]):
                topical.add(clauses[index])
        for clause in praised & topical:
            if clause < clauses[last_turn]:
                _mark(dismissed, clauses, clause)
    if not any(dismissed):
        return dismissed
    # Keep the dismissal only if something else is left to decide the reason.
    kept = [words[index] for index in range(count) if not dismissed[index]]
    content = [word for word in kept if word not in STOPWORDS and word not in _CONTRAST]
    if any(word_reasons(word) for word in content) or len(content) >= 2:
        return dismissed
    return [False] * count


def _cue_scope(
    words: Sequence[str], clauses: list[int], segments: list[int], index: int
) -> list[int]:
    """The clauses a set-aside cue covers: its own, then following short clauses that go on
    listing topics ("nothing wrong with the service, the staff or the support"), or, when
    its own clause names no topic ("no complaints there"), the clauses before it."""
    own = clauses[index]
    members: dict[int, list[str]] = {}
    for position, word in enumerate(words):
        if segments[position] == segments[index]:
            members.setdefault(clauses[position], []).append(word)
    scope = [own]
    for clause in sorted(number for number in members if number > own):
        listed = members[clause]
        if len(listed) > 5 or any(word in _VERBS for word in listed):
            break
        scope.append(clause)
    if not any(word_reasons(word) for word in members[own]):
        scope.extend(number for number in members if number < own)
    return scope


_TRIGGERS = _NEGATORS | _TURNING_WORDS | frozenset(_SET_ASIDE)


def _mark(dismissed: list[bool], groups: list[int], group: int) -> None:
    for index, value in enumerate(groups):
        if value == group:
            dismissed[index] = True


_SEQUENCES: list[tuple[str, tuple[Callable[[str], bool], ...]]] = [
    (reason, sequence) for reason in REASONS for sequence in _WORD_LISTS[reason].sequences
]


@lru_cache(maxsize=65536)
def _sequences_starting(word: str) -> tuple[int, ...]:
    return tuple(number for number, (_, sequence) in enumerate(_SEQUENCES) if sequence[0](word))


def _sequence_matches(words: Sequence[str]) -> list[tuple[str, tuple[int, ...]]]:
    matches = []
    count = len(words)
    for start, word in enumerate(words):
        for number in _sequences_starting(word):
            reason, sequence = _SEQUENCES[number]
            end = start + len(sequence)
            if end <= count and all(
                part(words[start + offset]) for offset, part in enumerate(sequence[1:], 1)
            ):
                matches.append((reason, tuple(range(start, end))))
    return matches
