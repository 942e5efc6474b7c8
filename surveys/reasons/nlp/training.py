"""Build the reason classifier's model file from the training corpus.

Imports scikit-learn, so only ``flask reasons train`` and the tests use it; inference in
``surveys.reasons.nlp.model`` reads the exported JSON with plain Python. Training is
deterministic: the same corpus gives the same file.
"""

import csv
import hashlib
import json
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

from surveys.reasons.nlp.evaluation import Example, Prediction, Report, evaluate
from surveys.reasons.nlp.features import FeatureExtractor, Settings, known_words, part_vectors
from surveys.reasons.nlp.labels import LANGUAGES, REASONS
from surveys.reasons.nlp.language import (
    LanguageModel,
    distinctive_words,
    language_features,
)
from surveys.reasons.nlp.model import MODEL_PATH, choose_reasons

logger = logging.getLogger(__name__)

CORPUS_DIRECTORY = MODEL_PATH.parent.parent / "data"
MODEL_FORMAT = 2

REGULARISATION = 16.0
LANGUAGE_REGULARISATION = 10.0
PART_WEIGHT_GRID = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
FOLDS = 5
MIN_NGRAM_TEXTS = 5
SEED = 20240611
# Weights smaller than this (for every reason) are left out of the exported file.
PRUNE_BELOW = 0.002
THRESHOLD_GRID = tuple(round(0.10 + 0.025 * step, 3) for step in range(25))


def corpus_files(directory: Path = CORPUS_DIRECTORY) -> list[Path]:
    return sorted(directory.glob("train_*.csv"))


def corpus_hash(directory: Path = CORPUS_DIRECTORY) -> str:
    """SHA-256 over the training files' names and bytes: the model file records it, and a
    test fails when the corpus changed without a rebuild."""
    digest = hashlib.sha256()
    for path in corpus_files(directory):
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def load_corpus(directory: Path = CORPUS_DIRECTORY) -> list[Example]:
    examples: list[Example] = []
    for path in corpus_files(directory):
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                labels = tuple(row["labels"].split("|"))
                examples.append(Example(row["text"], row["lang"], labels))
    return examples


@dataclass(slots=True)
class Dataset:
    """Feature vectors and label targets of a list of examples."""

    examples: list[Example]
    vectors: list[dict[str, float]]
    targets: np.ndarray  # examples x reasons, 1 where the reason is a label

    @classmethod
    def build(cls, examples: Sequence[Example], extractor: FeatureExtractor) -> "Dataset":
        vectors = [extractor.vector(extractor.analyse(example.text)) for example in examples]
        return cls(list(examples), vectors, cls.targets_of(examples))

    @staticmethod
    def targets_of(examples: Sequence[Example]) -> np.ndarray:
        return np.array(
            [[reason in example.labels for reason in REASONS] for example in examples],
            dtype=float,
        )


@dataclass(slots=True)
class LinearModel:
    vocabulary: list[str]
    weights: np.ndarray  # features x outputs
    intercepts: np.ndarray  # outputs

    def decision(self, vectors: Sequence[dict[str, float]]) -> np.ndarray:
        index = {name: position for position, name in enumerate(self.vocabulary)}
        matrix = _matrix(vectors, index)
        return np.asarray(matrix @ self.weights) + self.intercepts


def _matrix(vectors: Sequence[dict[str, float]], index: dict[str, int]) -> sparse.csr_matrix:
    rows, columns, values = [], [], []
    for row, vector in enumerate(vectors):
        for name, value in vector.items():
            column = index.get(name)
            if column is not None:
                rows.append(row)
                columns.append(column)
                values.append(value)
    return sparse.csr_matrix((values, (rows, columns)), shape=(len(vectors), len(index)))


def fit_reasons(
    vectors: Sequence[dict[str, float]], targets: np.ndarray, regularisation: float
) -> LinearModel:
    """One logistic regression per reason (one-vs-rest) over the given feature vectors.

    A character n-gram is only learnt when at least ``MIN_NGRAM_TEXTS`` training texts
    have it: one that only a single rare word has would just copy that word's label.
    """
    from sklearn.linear_model import LogisticRegression

    texts_with: dict[str, int] = {}
    for vector in vectors:
        for name in vector:
            texts_with[name] = texts_with.get(name, 0) + 1
    vocabulary = sorted(
        name
        for name, count in texts_with.items()
        if not name.startswith("c:") or count >= MIN_NGRAM_TEXTS
    )
    matrix = _matrix(vectors, {name: position for position, name in enumerate(vocabulary)})
    weights = np.zeros((len(vocabulary), len(REASONS)))
    intercepts = np.zeros(len(REASONS))
    for column in range(len(REASONS)):
        model = LogisticRegression(
            C=regularisation, solver="liblinear", tol=1e-6, intercept_scaling=10.0, random_state=0
        )
        model.fit(matrix, targets[:, column])
        weights[:, column] = model.coef_[0]
        intercepts[column] = model.intercept_[0]
    return LinearModel(vocabulary, weights, intercepts)


def sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-values))


def predictions(scores: np.ndarray, thresholds: Sequence[float]) -> list[Prediction]:
    result = []
    for row in scores:
        reasons = tuple(choose_reasons(row, thresholds))
        result.append(Prediction(reasons[0], reasons))
    return result


def stratified_folds(examples: Sequence[Example], folds: int, seed: int) -> list[int]:
    """A fold number per example, stratified by language and label set."""
    from sklearn.model_selection import StratifiedKFold

    strata = [f"{example.language}:{'|'.join(sorted(example.labels))}" for example in examples]
    # Strata smaller than the number of folds join their language's single-label group.
    counts: dict[str, int] = {}
    for stratum in strata:
        counts[stratum] = counts.get(stratum, 0) + 1
    strata = [
        stratum if counts[stratum] >= folds else f"{example.language}:rare"
        for stratum, example in zip(strata, examples, strict=True)
    ]
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    assignment = [0] * len(examples)
    for fold, (_, test) in enumerate(splitter.split(np.zeros(len(strata)), strata)):
        for position in test:
            assignment[position] = fold
    return assignment


@dataclass(slots=True)
class Readings:
    """Log-odds per example and reason: of the whole text, and of the strongest part read
    alone whose top reason it is, or 0 (``ReasonClassifier.readings``)."""

    texts: np.ndarray  # examples x reasons
    parts: np.ndarray  # examples x reasons


def readings(model: LinearModel, extractor: FeatureExtractor, texts: Sequence[str]) -> Readings:
    whole: list[dict[str, float]] = []
    parts: list[dict[str, float]] = []
    owners: list[int] = []
    for number, text in enumerate(texts):
        analysis = extractor.analyse(text)
        whole.append(extractor.vector(analysis))
        for vector in part_vectors(extractor, analysis):
            parts.append(vector)
            owners.append(number)
    text_logits = model.decision(whole)
    part_logits = model.decision(parts)
    strongest = np.zeros((len(texts), len(REASONS)))
    for row, number in enumerate(owners):
        top = int(np.argmax(part_logits[row]))
        strongest[number, top] = max(strongest[number, top], part_logits[row, top])
    return Readings(text_logits, strongest)


def paired(examples: Sequence[Example], seed: int) -> list[Example]:
    """Two-complaint texts made of two single-reason texts of one language with different
    reasons, joined as people write them ("..., and ...", "... Also, ..."), labelled with
    both. Without them a one-vs-rest model learns that a price word argues *against*
    product (it almost always came without it), and a second complaint drowns."""
    generator = random.Random(seed)
    single = [
        example
        for example in examples
        if len(example.labels) == 1 and "other" not in example.labels
    ]
    by_language: dict[str, list[Example]] = {}
    for example in single:
        by_language.setdefault(example.language, []).append(example)
    made = []
    for language, pool in sorted(by_language.items()):
        for _ in range(int(len(pool) * PAIRED_SHARE)):
            first, second = generator.sample(pool, 2)
            if first.labels == second.labels:
                continue
            joint = generator.choice(_JOINTS[language])
            text = first.text.rstrip(" .!") + joint + _lower_first(second.text)
            made.append(Example(text, language, (first.labels[0], second.labels[0])))
    return made


PAIRED_SHARE = 0.25
_JOINTS = {
    "en": (", and ", ". Also, ", ". And ", "; ", ", plus "),
    "sv": (", och ", ". Dessutom ", ". Och ", "; ", ", plus att "),
    "nb": (", og ", ". Dessuten ", ". Og ", "; ", ", pluss at "),
}


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def out_of_fold_readings(
    examples: Sequence[Example],
    settings: Settings,
    regularisation: float,
    folds: int = FOLDS,
    seed: int = SEED,
) -> Readings:
    """Readings of each example by a model trained without its fold (whose known words,
    for splitting compounds, also come from the other folds only)."""
    assignment = stratified_folds(examples, folds, seed)
    texts = np.zeros((len(examples), len(REASONS)))
    parts = np.zeros((len(examples), len(REASONS)))
    for fold in range(folds):
        train = [examples[i] for i, value in enumerate(assignment) if value != fold]
        test = [i for i, value in enumerate(assignment) if value == fold]
        extractor = FeatureExtractor(settings, known_words(e.text for e in train))
        dataset = Dataset.build([*train, *paired(train, seed)], extractor)
        model = fit_reasons(dataset.vectors, dataset.targets, regularisation)
        result = readings(model, extractor, [examples[i].text for i in test])
        texts[test] = result.texts
        parts[test] = result.parts
    return Readings(texts, parts)


def combined_scores(found: Readings, part_weights: Sequence[float]) -> np.ndarray:
    """Per example and reason: sigmoid(whole-text log-odds + weight * top-part log-odds)."""
    return sigmoid(found.texts + found.parts * np.asarray(part_weights))


def out_of_fold_languages(
    examples: Sequence[Example], folds: int = FOLDS, seed: int = SEED
) -> list[str | None]:
    """The language detected for each example by a model trained without its fold (no
    hint)."""
    assignment = stratified_folds(examples, folds, seed)
    detected: list[str | None] = [None] * len(examples)
    for fold in range(folds):
        model = fit_language_model(
            [example for example, value in zip(examples, assignment, strict=True) if value != fold]
        )
        for position, value in enumerate(assignment):
            if value == fold:
                detected[position] = model.detect(examples[position].text)
    return detected


def predicted_sets(scores: np.ndarray, thresholds: Sequence[float]) -> np.ndarray:
    """``choose_reasons`` for every row at once: examples x reasons, True where chosen."""
    rows = np.arange(len(scores))
    order = np.argsort(-scores, axis=1, kind="stable")
    chosen = np.zeros(scores.shape, dtype=bool)
    chosen[rows, order[:, 0]] = True
    second = order[:, 1]
    keep = scores[rows, second] >= np.asarray(thresholds)[second]
    chosen[rows[keep], second[keep]] = True
    return chosen


def objective(chosen: np.ndarray, gold: np.ndarray, languages: np.ndarray) -> float:
    """What training chooses for: macro-F1 plus exact-set accuracy, averaged over the
    languages (the same figures as ``evaluation``)."""
    total = 0.0
    names = np.unique(languages)
    for language in names:
        rows = languages == language
        predicted, labels = chosen[rows], gold[rows]
        true_positives = (predicted & labels).sum(axis=0)
        wrong = (predicted ^ labels).sum(axis=0)
        denominators = 2 * true_positives + wrong
        f1 = np.divide(
            2 * true_positives,
            denominators,
            out=np.zeros(len(REASONS)),
            where=denominators > 0,
        )
        exact = (predicted == labels).all(axis=1).mean()
        total += f1.mean() + exact
    return total / len(names)


def tune(examples: Sequence[Example], found: Readings) -> tuple[list[float], list[float]]:
    """Per reason, how much its top part counts (``PART_WEIGHT_GRID``) and the threshold of a
    second reason (``THRESHOLD_GRID``), chosen together on out-of-fold readings for
    ``objective``, one reason at a time (two passes)."""
    gold = Dataset.targets_of(examples).astype(bool)
    languages = np.array([example.language for example in examples])
    weights = [0.0] * len(REASONS)
    thresholds = [0.5] * len(REASONS)
    for _ in range(2):
        for column in range(len(REASONS)):
            best = (-1.0, weights[column], thresholds[column])
            for weight in PART_WEIGHT_GRID:
                trial_weights = [*weights]
                trial_weights[column] = weight
                scores = combined_scores(found, trial_weights)
                for value in THRESHOLD_GRID:
                    trial = [*thresholds]
                    trial[column] = value
                    score = objective(predicted_sets(scores, trial), gold, languages)
                    if score > best[0] + 1e-9:
                        best = (score, weight, value)
            weights[column], thresholds[column] = best[1], best[2]
    return weights, thresholds


@dataclass(slots=True)
class TrainingResult:
    model: dict
    cross_validation: Report
    thresholds: list[float]


def train(
    directory: Path = CORPUS_DIRECTORY,
    settings: Settings | None = None,
    regularisation: float = REGULARISATION,
    folds: int = FOLDS,
) -> TrainingResult:
    """Cross-validate on the corpus, choose thresholds from the out-of-fold scores, then fit
    on the whole corpus and return the exportable model."""
    settings = settings or Settings()
    examples = load_corpus(directory)
    found = out_of_fold_readings(examples, settings, regularisation, folds)
    part_weights, thresholds = tune(examples, found)
    scores = combined_scores(found, part_weights)
    languages = out_of_fold_languages(examples, folds)
    report = evaluate(
        examples,
        [
            Prediction(prediction.top_reason, prediction.reasons, language)
            for prediction, language in zip(predictions(scores, thresholds), languages, strict=True)
        ],
    )
    vocabulary = known_words(example.text for example in examples)
    extractor = FeatureExtractor(settings, vocabulary)
    dataset = Dataset.build([*examples, *paired(examples, SEED)], extractor)
    final = fit_reasons(dataset.vectors, dataset.targets, regularisation)
    language_model = fit_language_model(examples)
    model = {
        "format": MODEL_FORMAT,
        "corpus_sha256": corpus_hash(directory),
        "corpus_rows": len(examples),
        "reasons": list(REASONS),
        "settings": settings.as_json(),
        "regularisation": regularisation,
        "thresholds": dict(zip(REASONS, thresholds, strict=True)),
        "part_weights": dict(zip(REASONS, part_weights, strict=True)),
        "intercepts": _rounded(final.intercepts),
        "weights": _export_weights(final),
        "known_words": vocabulary,
        "language_model": language_model.as_json(),
        "cross_validation": {
            "folds": folds,
            "seed": SEED,
            **{
                name: {
                    "top1": round(scores.top1_accuracy, 4),
                    "macro_f1": round(scores.macro_f1, 4),
                    "exact_set": round(scores.exact_set_accuracy, 4),
                    "spurious_attention": round(scores.spurious_attention_rate, 4),
                }
                for name, scores in [*report.by_language.items(), ("all", report.overall)]
            },
        },
    }
    return TrainingResult(model, report, thresholds)


def _rounded(values: np.ndarray) -> list[float]:
    return [round(float(value), 5) for value in values]


def _export_weights(model: LinearModel) -> dict[str, list[float]]:
    weights = {}
    for name, row in zip(model.vocabulary, model.weights, strict=True):
        if np.max(np.abs(row)) >= PRUNE_BELOW:
            weights[name] = _rounded(row)
    return weights


def fit_language_model(examples: Sequence[Example]) -> LanguageModel:
    """A three-way logistic regression on character n-grams and word-list hits. Each Nordic
    text is also learnt without its å/ä/ö/ø/æ, as people type on foreign keyboards."""
    from sklearn.linear_model import LogisticRegression

    from surveys.reasons.nlp.language import strip_diacritics

    texts, labels = [], []
    for example in examples:
        texts.append(example.text)
        labels.append(example.language)
        stripped = strip_diacritics(example.text)
        if stripped != example.text:
            texts.append(stripped)
            labels.append(example.language)
    # Each word only one language uses, as a one-word text: spelling beyond the corpus.
    for language, word in distinctive_words():
        texts.append(word)
        labels.append(language)
    vectors = [language_features(text) for text in texts]
    vocabulary = sorted({name for vector in vectors for name in vector})
    index = {name: position for position, name in enumerate(vocabulary)}
    matrix = _matrix(vectors, index)
    model = LogisticRegression(C=LANGUAGE_REGULARISATION, solver="lbfgs", max_iter=5000, tol=1e-6)
    model.fit(matrix, labels)
    order = [list(model.classes_).index(language) for language in LANGUAGES]
    weights = {}
    for position, name in enumerate(vocabulary):
        row = model.coef_[order, position]
        if np.max(np.abs(row)) >= PRUNE_BELOW:
            weights[name] = [round(float(value), 5) for value in row]
    intercepts = [round(float(model.intercept_[column]), 5) for column in order]
    return LanguageModel(weights, intercepts)


def write_model(model: dict, path: Path = MODEL_PATH) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(model, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    path.write_text(text + "\n", encoding="utf-8")
    logger.info("wrote the reason model: %d features, %d bytes", len(model["weights"]), len(text))


def corpus_tables(directory: Path = CORPUS_DIRECTORY) -> str:
    """The count tables of ``data/README.md`` ("## Counts"), computed from the files."""
    examples = load_corpus(directory)
    present = {example.language for example in examples}
    order = [language for language in ("en", "sv", "nb") if language in present]
    per_file: dict[str, list[Example]] = {
        f"train_{language}.csv": [example for example in examples if example.language == language]
        for language in [*order, *sorted(present - set(order))]
    }
    lines = [
        "Rows by first (dominant) label:",
        "",
        "| file | rows | price | attention | product | other | two-label rows |",
        "|---|---|---|---|---|---|---|",
    ]
    total = dict.fromkeys(("rows", *REASONS, "two"), 0)
    for name, rows in per_file.items():
        first = {reason: sum(e.labels[0] == reason for e in rows) for reason in REASONS}
        two = sum(len(e.labels) == 2 for e in rows)
        lines.append(
            f"| {name} | {len(rows)} | "
            + " | ".join(str(first[reason]) for reason in REASONS)
            + f" | {two} |"
        )
        total["rows"] += len(rows)
        total["two"] += two
        for reason in REASONS:
            total[reason] += first[reason]
    lines.append(
        f"| **total** | {total['rows']} | "
        + " | ".join(str(total[reason]) for reason in REASONS)
        + f" | {total['two']} |"
    )
    lines += [
        "",
        "Rows that carry each label in either position:",
        "",
        "| file | price | attention | product | other |",
        "|---|---|---|---|---|",
    ]
    for name, rows in per_file.items():
        carried = [sum(reason in e.labels for e in rows) for reason in REASONS]
        lines.append(f"| {name} | " + " | ".join(map(str, carried)) + " |")
    languages = [name.removeprefix("train_").removesuffix(".csv") for name in per_file]
    combinations: dict[str, dict[str, int]] = {}
    for name, rows in per_file.items():
        for example in rows:
            if len(example.labels) == 2:
                key = "|".join(example.labels)
                combinations.setdefault(key, dict.fromkeys(per_file, 0))[name] += 1
    lines += [
        "",
        "Two-label combinations:",
        "",
        "| labels | " + " | ".join(languages) + " |",
        "|---|" + "---|" * len(languages),
    ]
    for key, counts in sorted(
        combinations.items(), key=lambda item: (-sum(item[1].values()), item[0])
    ):
        label = key.replace("|", "\\|")
        lines.append(f"| `{label}` | " + " | ".join(str(counts[name]) for name in per_file) + " |")
    return "\n".join(lines)
