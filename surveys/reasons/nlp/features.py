"""Turn a survey answer into the sparse features the reason classifier weighs.

Shared by training (``surveys.reasons.nlp.training``) and inference
(``surveys.reasons.nlp.model``), so both see exactly the same features. Text is folded
first (lower case, å/ä -> a, ö/ø -> o, æ -> ae), so "hor av sig" and "hör av sig" agree.

Per word: its Snowball stems (Swedish, Norwegian and English stemmers, offline), its
character 3-5-grams (robust to typos) and the reason word lists (``lexicon``) it is on; a
word the training never saw also borrows the features of its known compound parts or of the
known word it is probably a misspelling of. Per text: stem bigrams within a clause, word-list
phrases, prices told in figures (``figures``) and a length bucket.

Scope (``scope``): a word the text only mentions, praises or sets aside ("the price was fine,
but ...", "not about the money", "Support? Great.") gives only a weak ``x:<reason>`` feature
instead of its usual ones, so the reason complained about decides.

Vectors: each word, word pair, phrase or figure is a *unit* of weighted feature counts with
the positions of its words; a text's vector is the sum of its units divided by the root of
the sum of their squared norms, so a classifier can cache each word's contribution and score
a clause alone from the same units.
"""

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import compress

from surveys.reasons.nlp.figures import price_figures
from surveys.reasons.nlp.labels import REASONS
from surveys.reasons.nlp.language import Token, tokenize
from surveys.reasons.nlp.lexicon import (
    STOPWORDS,
    compound_reasons,
    sequence_matches,
    word_reasons,
)
from surveys.reasons.nlp.scope import Scope, read_scope

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
    figure: float = 1.0
    stance: float = 0.7

    def as_json(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True, slots=True)
class Analysis:
    """A text split into words, its scope (clauses, what is set aside), and its feature
    units with the tokens each came from (no tokens for whole-text features)."""

    tokens: list[Token]
    scope: Scope
    units: list[tuple["Unit", tuple[int, ...]]]
    # Filled by the classifier as it reads the units: each unit's dot products and norm.
    dots: list[tuple[float, ...]] = field(default_factory=list)


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
        self._aside_cache: dict[tuple[str, ...], Unit] = {}
        self._group_weight = {
            prefix: weight(self.settings) for prefix, weight in _GROUP_WEIGHT.items()
        }

    def analyse(self, text: str, tokens: list[Token] | None = None) -> Analysis:
        if tokens is None:
            tokens = tokenize(text)
        words = [token.folded for token in tokens]
        phrases = sequence_matches(words)
        figures = price_figures(tokens, words)
        scope = read_scope(
            text, tokens, phrases, [position for _, span in figures for position in span], words
        )
        set_aside = scope.set_aside
        any_set_aside = scope.any_set_aside
        units: list[tuple[Unit, tuple[int, ...]]] = []
        clauses = scope.clauses
        word_cache = self._word_cache
        # A word and the word pair it ends (with the word before it in its clause) are one
        # unit: the same features, half the units to read.
        previous: Unit | None = None
        for index, word in enumerate(words):
            if any_set_aside and set_aside[index]:
                previous = None
                reasons = word_reasons(word)
                if reasons:
                    units.append((self._set_aside_unit(reasons), (index,)))
                continue
            unit = word_cache.get(word) or self.word_unit(word)
            if previous is not None and clauses[index] == clauses[index - 1]:
                units.append((self._pair_unit(previous, unit), (index,)))
            else:
                units.append((unit, (index,)))
            previous = unit
        for name, positions in phrases:
            if name in _REASON_NAMES:
                aside = any_set_aside and all(set_aside[index] for index in positions)
                units.append((self._single(("x:" if aside else "l:") + name), positions))
        # Who a clause is about, and whether it complains or only mentions: "s:attention:c"
        # for "nobody answers", "s:attention:m" for "our seller told us ...".
        stances: dict[str, list[int]] = {}
        complains = scope.complains
        topics = scope.topics
        for index in compress(range(len(topics)), topics):
            found = topics[index]
            if not (any_set_aside and set_aside[index]):
                stance = ":c" if complains[clauses[index]] else ":m"
                for reason in found:
                    stances.setdefault("s:" + reason + stance, []).append(index)
        for name, positions in stances.items():
            units.append((self._single(name), tuple(positions)))
        for kind, positions in figures:
            aside = any_set_aside and all(set_aside[index] for index in positions)
            units.append((self._single("x:price" if aside else "f:" + kind), positions))
            if not aside:
                units.append((self._single("l:price"), positions))
        units.append((self._single("n:" + _length_bucket(len(tokens))), ()))
        return Analysis(tokens, scope, units)

    def _pair_unit(self, previous: "Unit", unit: "Unit") -> "Unit":
        """A word's features and those of the pair of stems it ends ("b:nobody call"),
        cached."""
        pairs = unit.pairs
        if pairs is None:
            pairs = unit.pairs = {}
        pair = pairs.get(previous.head)
        if pair is None:
            bigram = self._single("b:" + previous.head + " " + unit.head)
            pair = Unit(unit.key + " " + bigram.key, head=unit.head, parts=(unit, bigram))
            if len(pairs) < 1000:
                pairs[previous.head] = pair
        return pair

    def _set_aside_unit(self, reasons: tuple[str, ...]) -> "Unit":
        """The weak features of a set-aside word of these reasons ("x:price"), cached."""
        unit = self._aside_cache.get(reasons)
        if unit is None:
            unit = self._unit(tuple("x:" + reason for reason in reasons))
            self._aside_cache[reasons] = unit
        return unit

    def length_unit(self, length: int) -> "Unit":
        """The length feature of a text (or part) of ``length`` words."""
        return self._single("n:" + _length_bucket(length))

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


def part_vectors(extractor: FeatureExtractor, analysis: Analysis) -> list[dict[str, float]]:
    """Feature values of each part of a text (a clause split at "and") read alone, as the
    classifier reads them (``ReasonClassifier.readings``): the units that start in it and
    its own length, normalised alone. Parts whose every word is set aside, or that complain
    of nothing, are left out; a text without another part gives its own vector."""
    part_of = analysis.scope.parts
    count = part_of[-1] + 1 if part_of else 0
    if count <= 1:
        return [FeatureExtractor.vector(analysis)]
    grouped: list[list[Unit]] = [[] for _ in range(count)]
    lengths = [0] * count
    kept = [False] * count
    complains = analysis.scope.part_complains
    for position, number in enumerate(part_of):
        lengths[number] += 1
        if not analysis.scope.set_aside[position] and complains[number]:
            kept[number] = True
    for unit, positions in analysis.units:
        if positions:
            grouped[part_of[positions[0]]].append(unit)
    vectors = []
    for number in range(count):
        if not kept[number]:
            continue
        units = [*grouped[number], extractor.length_unit(lengths[number])]
        values: dict[str, float] = {}
        squared = 0.0
        for unit in units:
            squared += unit.squared_norm
            for name, value in unit.values.items():
                values[name] = values.get(name, 0.0) + value
        norm = math.sqrt(squared) or 1.0
        vectors.append({name: value / norm for name, value in values.items()})
    return vectors or [FeatureExtractor.vector(analysis)]


class Unit:
    """Features that come together: one word's, one word pair's, one phrase's.

    ``key`` is "=word" for a word's features, else the feature names (equal keys, equal
    units); ``head`` a word's first stem, for word pairs. A unit made of ``parts`` (a word
    and the pair it ends) has their features, which share no name. The classifier keeps the
    unit's dot products with its weights in ``dot``: a text is mostly units read before.
    """

    __slots__ = ("key", "_values", "head", "squared_norm", "dot", "pairs", "parts")

    def __init__(
        self,
        key: str,
        values: dict[str, float] | None = None,
        head: str | None = None,
        parts: tuple["Unit", ...] = (),
    ) -> None:
        self.key = key
        self._values = values
        self.head = head
        self.parts = parts
        if parts:
            self.squared_norm = sum(part.squared_norm for part in parts)
        else:
            self.squared_norm = sum(value * value for value in (values or {}).values())
        self.dot: tuple[float, ...] | None = None
        self.pairs: dict[str, Unit] | None = None  # this word after each head, with the pair

    @property
    def values(self) -> dict[str, float]:
        if self._values is None:
            merged: dict[str, float] = {}
            for part in self.parts:
                merged.update(part.values)
            self._values = merged
        return self._values


_GROUP_WEIGHT: dict[str, Callable[[Settings], float]] = {
    "w": lambda settings: settings.word,
    "b": lambda settings: settings.bigram,
    "c": lambda settings: settings.character,
    "l": lambda settings: settings.lexicon,
    "k": lambda settings: settings.compound,
    "x": lambda settings: settings.dismissed,
    "n": lambda settings: settings.length,
    "f": lambda settings: settings.figure,
    "s": lambda settings: settings.stance,
}
_REASON_NAMES = frozenset(REASONS)


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
