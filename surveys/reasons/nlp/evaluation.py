"""Measure the reason classifier on labelled texts, per language and overall: top-1 accuracy,
macro-F1, exact-set accuracy, the spurious-attention rate and a confusion table. Pure: no
Flask, no database.

- top-1: the predicted top reason is one of the labels;
- exact set: the predicted reasons are the labels, no more and no fewer;
- spurious attention: attention predicted (in any place) for a text without the attention
  label, as a share of the texts without it. Each such text is a price-as-cover verdict that
  a CX team would be shown for nothing.
"""

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from surveys.reasons.nlp.labels import REASONS

NONE = "none"
ATTENTION = "attention"


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled answer. ``labels`` holds one or two reasons, the dominant one first."""

    text: str
    language: str
    labels: tuple[str, ...]
    kind: str | None = None  # what the text tests, when the file says ("set-aside", ...)


@dataclass(frozen=True, slots=True)
class Prediction:
    top_reason: str | None
    reasons: tuple[str, ...]
    language: str | None = None


@dataclass(slots=True)
class Scores:
    """Figures for one group of examples (a language, or all of them)."""

    count: int = 0
    top1_correct: int = 0
    exact_correct: int = 0
    without_attention: int = 0
    spurious_attention: int = 0
    language_correct: int = 0
    true_positives: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REASONS, 0))
    false_positives: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REASONS, 0))
    false_negatives: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REASONS, 0))
    # gold dominant label -> predicted top reason (or "none") -> count
    confusion: dict[str, dict[str, int]] = field(
        default_factory=lambda: {gold: dict.fromkeys((*REASONS, NONE), 0) for gold in REASONS}
    )

    def add(self, example: Example, prediction: Prediction) -> None:
        self.count += 1
        if prediction.top_reason in example.labels:
            self.top1_correct += 1
        if prediction.language == example.language:
            self.language_correct += 1
        gold, predicted = set(example.labels), set(prediction.reasons)
        if gold == predicted:
            self.exact_correct += 1
        if ATTENTION not in gold:
            self.without_attention += 1
            if ATTENTION in predicted:
                self.spurious_attention += 1
        for reason in REASONS:
            if reason in predicted and reason in gold:
                self.true_positives[reason] += 1
            elif reason in predicted:
                self.false_positives[reason] += 1
            elif reason in gold:
                self.false_negatives[reason] += 1
        self.confusion[example.labels[0]][prediction.top_reason or NONE] += 1

    @property
    def top1_accuracy(self) -> float:
        return self.top1_correct / self.count if self.count else 0.0

    @property
    def exact_set_accuracy(self) -> float:
        return self.exact_correct / self.count if self.count else 0.0

    @property
    def spurious_attention_rate(self) -> float:
        """Attention predicted where it is not a label, per text without the label."""
        return self.spurious_attention / self.without_attention if self.without_attention else 0.0

    @property
    def language_accuracy(self) -> float:
        return self.language_correct / self.count if self.count else 0.0

    def f1(self, reason: str) -> float:
        true_positives = self.true_positives[reason]
        denominator = (
            2 * true_positives + self.false_positives[reason] + self.false_negatives[reason]
        )
        return 2 * true_positives / denominator if denominator else 0.0

    @property
    def macro_f1(self) -> float:
        """Per-reason F1 of the predicted reason set against the gold label set, averaged
        over the four reasons."""
        return sum(self.f1(reason) for reason in REASONS) / len(REASONS)


@dataclass(slots=True)
class Report:
    by_language: dict[str, Scores]
    overall: Scores
    by_kind: dict[str, Scores] = field(default_factory=dict)


def evaluate(examples: Sequence[Example], predictions: Sequence[Prediction]) -> Report:
    if len(examples) != len(predictions):
        raise ValueError("one prediction per example is needed")
    by_language: dict[str, Scores] = {}
    by_kind: dict[str, Scores] = {}
    overall = Scores()
    for example, prediction in zip(examples, predictions, strict=True):
        by_language.setdefault(example.language, Scores()).add(example, prediction)
        if example.kind:
            by_kind.setdefault(example.kind, Scores()).add(example, prediction)
        overall.add(example, prediction)
    return Report(dict(sorted(by_language.items())), overall, by_kind)


def read_examples(path: str | Path) -> list[Example]:
    """Labelled texts from a CSV file with the columns text, lang and labels (any order,
    labels joined by ``|``, dominant first)."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return parse_examples(csv.DictReader(handle), source=str(path))


def parse_examples(rows: Iterable[dict[str, str]], source: str = "CSV") -> list[Example]:
    examples = []
    for number, row in enumerate(rows, start=2):
        missing = {"text", "lang", "labels"} - set(row)
        if missing:
            raise ValueError(f"{source}: missing column(s) {', '.join(sorted(missing))}")
        labels = tuple(label.strip() for label in (row["labels"] or "").split("|") if label)
        unknown = [label for label in labels if label not in REASONS]
        if not labels or unknown:
            raise ValueError(f"{source} line {number}: labels must be reasons joined by '|'")
        kind = (row.get("kind") or "").strip() or None
        examples.append(Example(row["text"] or "", (row["lang"] or "").strip(), labels, kind))
    return examples


def format_report(report: Report) -> list[str]:
    """The report as lines of plain text for the command line."""
    lines = [
        f"{'language':<10}{'texts':>7}{'top-1':>8}{'macro-F1':>10}{'exact-set':>11}"
        f"{'spurious-attention':>20}{'language id':>13}"
    ]
    groups = [*report.by_language.items(), ("all", report.overall)]
    for name, scores in groups:
        spurious = f"{scores.spurious_attention}/{scores.without_attention}"
        lines.append(
            f"{name:<10}{scores.count:>7}{scores.top1_accuracy:>8.3f}{scores.macro_f1:>10.3f}"
            f"{scores.exact_set_accuracy:>11.3f}"
            f"{scores.spurious_attention_rate:>10.3f}{'(' + spurious + ')':>10}"
            f"{scores.language_accuracy:>13.3f}"
        )
    lines.append("")
    lines.append(
        "spurious-attention: attention predicted where it is not a label, as a share of the "
        "texts without it (count in brackets)"
    )
    lines.append("")
    lines.append(
        "F1 per reason: "
        + ", ".join(f"{reason} {report.overall.f1(reason):.3f}" for reason in REASONS)
    )
    if report.by_kind:
        lines.append("")
        lines.append(
            f"{'kind':<18}{'texts':>7}{'top-1':>8}{'exact-set':>11}{'spurious-attention':>20}"
        )
        for name, scores in report.by_kind.items():
            spurious = f"{scores.spurious_attention}/{scores.without_attention}"
            lines.append(
                f"{name:<18}{scores.count:>7}{scores.top1_accuracy:>8.3f}"
                f"{scores.exact_set_accuracy:>11.3f}"
                f"{scores.spurious_attention_rate:>10.3f}{'(' + spurious + ')':>10}"
            )
    lines.append("")
    lines.append("confusion (rows: gold first label, columns: predicted top reason)")
    columns = (*REASONS, NONE)
    lines.append(f"{'':<11}" + "".join(f"{column:>11}" for column in columns))
    for gold in REASONS:
        row = report.overall.confusion[gold]
        lines.append(f"{gold:<11}" + "".join(f"{row[column]:>11}" for column in columns))
    return lines
