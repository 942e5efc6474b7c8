"""The multilingual reason classifier: why a customer answered as they did.

For a free-text survey answer in Swedish, Norwegian or English it gives the language, a
score from 0 to 1 for each reason (price, attention, product, other), the reasons over
their thresholds, the top reason, the words that decided each reason and, for English,
TextBlob's polarity and subjectivity.

Runs offline from files in this repository and installed packages. The weights are a
one-vs-rest logistic regression trained by ``flask reasons train``
(``surveys.reasons.nlp.training``) and exported to ``model/reasons.json``; inference here is
plain Python with no scikit-learn and no pickle. Import is cheap: the model, NLTK's
stemmers and TextBlob load on first use.

    from surveys.reasons.nlp.model import get_classifier
    classification = get_classifier().classify("The price was fine, but nobody called us back")
    classification.top_reason  # "attention"
"""

import json
import logging
import math
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from surveys.reasons.nlp.features import (
    STOPWORDS,
    Analysis,
    FeatureExtractor,
    Settings,
    Unit,
)
from surveys.reasons.nlp.labels import REASONS
from surveys.reasons.nlp.language import LanguageModel, Token, has_words, tokenize

__all__ = [
    "MODEL_PATH",
    "REASONS",
    "Classification",
    "ReasonClassifier",
    "SetAside",
    "detect_language",
    "get_classifier",
]

logger = logging.getLogger(__name__)

# Committed beside the corpus it was trained from (surveys/reasons/data).
MODEL_PATH = Path(__file__).resolve().parent.parent / "model" / "reasons.json"
MAX_REASONS = 2
MAX_EVIDENCE = 3
# A word must add at least this much (log-odds) to a reason to count as its evidence, and at
# least this share of the strongest word's contribution; a phrase must weigh this share of
# the strongest phrase: "nobody" and "felt like a number", not also "time" or "renewal".
MIN_EVIDENCE = 0.25
WORD_SHARE = 0.07
PHRASE_SHARE = 0.2


@dataclass(frozen=True, slots=True)
class SetAside:
    """A topic the text names but does not complain about, with its words as written and
    how it was set aside: "negated" ("no complaints about support"), "conceded" ("sure,
    ..., but") or "praised" ("great people, but ...")."""

    reason: str
    words: tuple[str, ...]
    how: str

    def as_json(self) -> dict[str, Any]:
        return {"reason": self.reason, "words": list(self.words), "how": self.how}


@dataclass(frozen=True)
class Classification:
    """What the classifier read in one text."""

    text: str
    language: str | None  # "sv" | "nb" | "en" | None for empty / punctuation-only
    scores: dict[str, float]  # every reason, 0..1
    reasons: list[str]  # the top reason, then any other reason over its threshold
    top_reason: str | None
    # Per reason in `reasons`: the words that decided it, as written; each quoted once.
    evidence: dict[str, list[str]]
    polarity: float | None = None  # English only: TextBlob (pattern) polarity, -1..1
    subjectivity: float | None = None  # English only: 0..1
    # Topics named but not complained about (not among `reasons`).
    set_aside: tuple[SetAside, ...] = ()

    def has_reason(self, reason: str) -> bool:
        return reason in self.reasons

    def set_aside_words(self, reason: str) -> list[str]:
        return [word for item in self.set_aside if item.reason == reason for word in item.words]

    def as_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "language": self.language,
            "scores": dict(self.scores),
            "reasons": list(self.reasons),
            "top_reason": self.top_reason,
            "evidence": {reason: list(words) for reason, words in self.evidence.items()},
            "set_aside": [item.as_json() for item in self.set_aside],
            "polarity": self.polarity,
            "subjectivity": self.subjectivity,
        }


class ReasonClassifier:
    """Scores survey answers with the exported model. Thread-safe after construction.

    A reason's score combines two readings of the same linear model: the whole text, and
    the strongest of its clauses about that reason read alone (its *parts*: clauses split
    again at "and"), so a second complaint in a long text is not drowned by the first ("Too
    pricey, and it freezes whenever we import"). How much the part counts was chosen on
    out-of-fold scores in training (``part_weights`` in the model file).
    """

    def __init__(self, model: dict[str, Any]) -> None:
        if list(model["reasons"]) != list(REASONS):
            raise ValueError("the model file was built for other reasons")
        self.corpus_sha256: str = model["corpus_sha256"]
        self.thresholds: dict[str, float] = {
            reason: float(model["thresholds"][reason]) for reason in REASONS
        }
        self._threshold_list = [self.thresholds[reason] for reason in REASONS]
        self._intercepts: list[float] = [float(value) for value in model["intercepts"]]
        # How much the top part counts beside the whole text (0 in a model without parts).
        part_weights = model.get("part_weights") or dict.fromkeys(REASONS, 0.0)
        self.part_weights = [float(part_weights[reason]) for reason in REASONS]
        self._weights: dict[str, tuple[float, ...]] = {
            name: tuple(row) for name, row in model["weights"].items()
        }
        self.extractor = FeatureExtractor(Settings(**model["settings"]), model["known_words"])
        self.language_model = LanguageModel.from_json(model["language_model"])
        self._sentiment: Callable[[str], tuple[float, float]] | None = None
        self._sentiment_lock = threading.Lock()

    @classmethod
    def from_file(cls, path: Path = MODEL_PATH) -> "ReasonClassifier":
        with open(path, encoding="utf-8") as handle:
            model = json.load(handle)
        logger.info("loaded the reason model: %d weights", len(model["weights"]))
        return cls(model)

    def detect_language(self, text: str, hint: str | None = None) -> str | None:
        return self.language_model.detect(text, hint)

    def classify(self, text: str, language_hint: str | None = None) -> Classification:
        """Classify one answer. ``language_hint`` (the contact's language) only breaks ties
        when the text's own language is unclear."""
        if not has_words(text):
            return Classification(
                text=text,
                language=None,
                scores=dict.fromkeys(REASONS, 0.0),
                reasons=[],
                top_reason=None,
                evidence={},
            )
        tokens = tokenize(text)
        language = self.language_model.detect(text, language_hint, tokens)
        analysis = self.extractor.analyse(text, tokens)
        texts, parts, norm = self.readings(analysis)
        probabilities = [
            _sigmoid(text_logit + weight * part_logit)
            for text_logit, weight, part_logit in zip(texts, self.part_weights, parts, strict=True)
        ]
        reasons = choose_reasons(probabilities, self._threshold_list)
        scores = {
            reason: round(probability, 4)
            for reason, probability in zip(REASONS, probabilities, strict=True)
        }
        evidence = self._evidence(text, analysis, norm, reasons)
        polarity = subjectivity = None
        if language == "en":
            polarity, subjectivity = self._sentiment_of(text)
        return Classification(
            text=text,
            language=language,
            scores=scores,
            reasons=reasons,
            top_reason=reasons[0],
            evidence=evidence,
            polarity=polarity,
            subjectivity=subjectivity,
            set_aside=_set_aside(text, analysis, reasons) if analysis.scope.any_set_aside else (),
        )

    def readings(self, analysis: Analysis) -> tuple[list[float], list[float], float]:
        """Log-odds per reason of the whole text; per reason, the log-odds of the strongest
        part read alone whose top reason it is (0 when no part is about it, or it is
        negative); and the norm the whole text's dot products were divided by."""
        dot_of = self._dot
        first = second = third = fourth = squared = 0.0
        part_of = analysis.scope.parts
        part_count = part_of[-1] + 1 if part_of else 0
        unit_dots = analysis.dots
        unit_dots.clear()
        if part_count <= 1:
            by_part = None
            for unit, _ in analysis.units:
                dot = unit.dot or dot_of(unit)
                unit_dots.append(dot)
                first += dot[0]
                second += dot[1]
                third += dot[2]
                fourth += dot[3]
                squared += dot[4]
        else:
            by_part = [[0.0, 0.0, 0.0, 0.0, 0.0] for _ in range(part_count)]
            for unit, positions in analysis.units:
                dot = unit.dot or dot_of(unit)
                unit_dots.append(dot)
                first += dot[0]
                second += dot[1]
                third += dot[2]
                fourth += dot[3]
                squared += dot[4]
                if positions:
                    sums = by_part[part_of[positions[0]]]
                    sums[0] += dot[0]
                    sums[1] += dot[1]
                    sums[2] += dot[2]
                    sums[3] += dot[3]
                    sums[4] += dot[4]
        norm = math.sqrt(squared) or 1.0
        intercepts = self._intercepts
        texts = [
            intercepts[0] + first / norm,
            intercepts[1] + second / norm,
            intercepts[2] + third / norm,
            intercepts[3] + fourth / norm,
        ]
        parts = [0.0] * 4
        lengths = _part_lengths(analysis) if by_part is not None else []
        if by_part is None or not any(lengths):  # the text is its one part
            top = max(range(4), key=texts.__getitem__)
            parts[top] = max(texts[top], 0.0)
            return texts, parts, norm
        for number, length in enumerate(lengths):
            if length == 0:  # every word set aside
                continue
            sums = by_part[number]
            unit = self.extractor.length_unit(length)
            dot = unit.dot or self._dot(unit)
            part_norm = math.sqrt(sums[4] + dot[4])
            logits = [
                intercepts[column] + (sums[column] + dot[column]) / part_norm for column in range(4)
            ]
            top = max(range(4), key=logits.__getitem__)
            if logits[top] > parts[top]:
                parts[top] = logits[top]
        return texts, parts, norm

    def _evidence(
        self, text: str, analysis: Analysis, norm: float, reasons: list[str]
    ) -> dict[str, list[str]]:
        """For each reason, the words that pushed it up most, as written; neighbouring
        words join in a phrase. A word is evidence of one reason only (the one it adds most
        to), never a word set aside, and a phrase is quoted once."""
        columns = [REASONS.index(reason) for reason in reasons]
        count = len(analysis.tokens)
        totals = [[0.0] * count for _ in columns]  # per reason found: per token
        if not analysis.dots:
            self.readings(analysis)
        for slot, column in enumerate(columns):
            row = totals[slot]
            for (_, positions), dot in zip(analysis.units, analysis.dots, strict=True):
                value = dot[column]
                if not positions or not value:
                    continue
                if len(positions) == 1:
                    row[positions[0]] += value
                else:
                    value /= len(positions)
                    for position in positions:
                        row[position] += value
        set_aside = analysis.scope.set_aside
        any_set_aside = analysis.scope.any_set_aside
        owned: list[dict[int, float]] = [{} for _ in columns]
        if len(columns) == 1:
            first = totals[0]
            owned[0] = {
                position: value / norm
                for position, value in enumerate(first)
                if value > 0 and not (any_set_aside and set_aside[position])
            }
        else:
            first, second = totals
            for position in range(count):
                if any_set_aside and set_aside[position]:
                    continue
                if first[position] >= second[position]:
                    if first[position] > 0:
                        owned[0][position] = first[position] / norm
                elif second[position] > 0:
                    owned[1][position] = second[position] / norm
        evidence: dict[str, list[str]] = {}
        quoted: set[str] = set()
        for slot, reason in enumerate(reasons):
            phrases = []
            for phrase in _phrases(text, analysis.tokens, owned[slot]):
                if phrase.casefold() not in quoted:
                    quoted.add(phrase.casefold())
                    phrases.append(phrase)
            evidence[reason] = phrases
        return evidence

    def _dot(self, unit: Unit) -> tuple[float, ...]:
        """The unit's dot product with each reason's weights, and its squared norm last."""
        if unit.parts:
            dots = [part.dot or self._dot(part) for part in unit.parts]
            sums = [sum(column) for column in zip(*dots, strict=True)]
            dot = (*sums[:4], unit.squared_norm)
            unit.dot = dot
            return dot
        sums = [0.0, 0.0, 0.0, 0.0, unit.squared_norm]
        for name, value in unit.values.items():
            row = self._weights.get(name)
            if row is not None:
                for column in range(4):
                    sums[column] += row[column] * value
        dot = tuple(sums)
        unit.dot = dot
        return dot

    def classify_many(
        self,
        texts: Iterable[str],
        language_hints: Iterable[str | None] | str | None = None,
    ) -> list[Classification]:
        """Classify several answers; ``language_hints`` is one hint for all or one per text."""
        texts = list(texts)
        if language_hints is None or isinstance(language_hints, str):
            hints: list[str | None] = [language_hints] * len(texts)
        else:
            hints = list(language_hints)
            if len(hints) != len(texts):
                raise ValueError("give one language hint per text")
        return [self.classify(text, hint) for text, hint in zip(texts, hints, strict=True)]

    def _sentiment_of(self, text: str) -> tuple[float, float]:
        if self._sentiment is None:
            with self._sentiment_lock:
                if self._sentiment is None:
                    self._sentiment = _load_sentiment()
        polarity, subjectivity = self._sentiment(text)
        return round(float(polarity), 4), round(float(subjectivity), 4)


def _load_sentiment() -> Callable[[str], tuple[float, float]]:
    """TextBlob's PatternAnalyzer, called directly: ``PatternAnalyzer().analyze`` builds a
    namedtuple class per call and ``TextBlob(text)`` would tokenise with NLTK's punkt,
    which is not installed. Same figures, offline and faster."""
    from textblob.en import sentiment

    def analyse(text: str) -> tuple[float, float]:
        polarity, subjectivity = sentiment(text)[:2]
        return polarity, subjectivity

    return analyse


def choose_reasons(scores: Sequence[float], thresholds: Sequence[float]) -> list[str]:
    """The top reason always, then others over their threshold (scores and thresholds in
    ``REASONS`` order), at most ``MAX_REASONS``, highest first."""
    ranked = sorted(range(len(REASONS)), key=lambda column: (-scores[column], column))
    chosen = [REASONS[ranked[0]]]
    for column in ranked[1:MAX_REASONS]:
        if scores[column] >= thresholds[column]:
            chosen.append(REASONS[column])
    return chosen


def _sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exponential = math.exp(value)
    return exponential / (1.0 + exponential)


def _phrases(text: str, tokens: list[Token], contributions: dict[int, float]) -> list[str]:
    """Up to ``MAX_EVIDENCE`` phrases of the text made of the words that added most
    (``contributions``: token position -> positive log-odds it added)."""
    if not contributions:
        return []
    floor = max(MIN_EVIDENCE, max(contributions.values()) * WORD_SHARE)
    chosen = sorted(position for position, value in contributions.items() if value >= floor)
    if not chosen:
        chosen = [max(contributions, key=contributions.__getitem__)]
    # A weaker word between two chosen ones joins the phrase: "nobody called us back".
    bridged = {
        position + 1
        for position, following in zip(chosen, chosen[1:], strict=False)
        if following == position + 2 and position + 1 in contributions
    }
    runs: list[list[int]] = []
    for position in sorted({*chosen, *bridged}):
        previous = runs[-1][-1] if runs else None
        gap = text[tokens[previous].end : tokens[position].start] if previous is not None else ""
        if previous == position - 1 and gap.strip(" -") == "":
            runs[-1].append(position)
        else:
            runs.append([position])
    phrases: list[tuple[float, int, int]] = []  # (weight, first, last)
    for run in runs:
        while len(run) > 1 and tokens[run[-1]].folded in STOPWORDS:
            run.pop()
        while len(run) > 1 and tokens[run[0]].folded in STOPWORDS:
            run.pop(0)
        if len(run) == 1 and tokens[run[0]].folded in STOPWORDS and len(runs) > 1:
            continue
        weight = sum(contributions[position] for position in run)
        phrases.append((weight, run[0], run[-1]))
    phrases.sort(key=lambda phrase: -phrase[0])
    # A phrase is quoted when it weighs a share of the strongest one: "nobody" and "felt
    # like a number", not "renewal" beside them.
    floor = phrases[0][0] * PHRASE_SHARE if phrases else 0.0
    result: list[str] = []
    for weight, first, last in phrases[:MAX_EVIDENCE]:
        if weight < floor:
            break
        phrase = text[tokens[first].start : tokens[last].end]
        if phrase not in result:
            result.append(phrase)
    return result


def _part_lengths(analysis: Analysis) -> list[int]:
    """How many words each part has, or 0 when it does not count alone: every word of it is
    set aside, or it complains of nothing (no complaint word, no negation)."""
    part_of = analysis.scope.parts
    set_aside = analysis.scope.set_aside
    lengths = [0] * (part_of[-1] + 1 if part_of else 0)
    kept = [False] * len(lengths)
    complains = analysis.scope.part_complains
    for position, number in enumerate(part_of):
        lengths[number] += 1
        if not set_aside[position] and complains[number]:
            kept[number] = True
    return [length if keep else 0 for length, keep in zip(lengths, kept, strict=True)]


def _set_aside(text: str, analysis: Analysis, reasons: list[str]) -> tuple[SetAside, ...]:
    """The topics of the set-aside words that are not among the reasons found, each with its
    words as written (neighbours joined) and how it was set aside."""
    tokens = analysis.tokens
    set_aside = analysis.scope.set_aside
    topics = analysis.scope.topics
    found: dict[tuple[str, str], list[list[int]]] = {}
    for position, why in enumerate(set_aside):
        if not why:
            continue
        for reason in topics[position]:
            if reason in reasons:
                continue
            runs = found.setdefault((reason, why), [])
            if runs and runs[-1][-1] == position - 1 and set_aside[position - 1] == why:
                runs[-1].append(position)
            else:
                runs.append([position])
    result = []
    for (reason, why), runs in found.items():
        words = dict.fromkeys(text[tokens[run[0]].start : tokens[run[-1]].end] for run in runs)
        result.append(SetAside(reason, tuple(words), why))
    return tuple(result)


@cache
def get_classifier() -> ReasonClassifier:
    """The classifier built from the checked-in model, loaded once per process."""
    return ReasonClassifier.from_file(MODEL_PATH)


def detect_language(text: str, hint: str | None = None) -> str | None:
    """The language of a text ("sv", "nb", "en"), None for empty or punctuation-only text;
    ``hint`` breaks near ties only."""
    return get_classifier().detect_language(text, hint)
