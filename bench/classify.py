"""Throughput of the reason classifier, against a plain keyword-count baseline.

Builds realistic survey answers from the training corpus: one-liners, several sentences,
Nordic answers with English in them, a few very long ones and some empty or punctuation-only
ones. Classifies them one at a time through the public API on one core (TextBlob sentiment
included for English), then runs the baseline on the same texts.

    .venv/bin/python bench/classify.py [--texts 20000] [--seed 7]

The last line printed is one JSON object with the figures.
"""

import argparse
import csv
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from surveys.reasons.nlp.model import REASONS, get_classifier  # noqa: E402

CORPUS = ROOT / "surveys" / "reasons" / "data"

BASELINE_KEYWORDS = {
    "price": "price prices pricing expensive cheap cheaper cost costs fee fees budget invoice "
    "pris priset prisen dyrt dyr billig billigare billigere kostnad avgift faktura",
    "attention": "support contact call called follow-up nobody reply answer forgotten ignored "
    "kundtjänst kundansvarig uppföljning oppfølging ingen svar kontakt ringde ringte",
    "product": "product bug bugs crash quality feature features system app downtime broken "
    "produkt buggar kvalitet funktioner systemet appen fel feil driftstopp nedetid",
    "other": "acquired merger bankrupt bankruptcy moved closed project reorganised "
    "uppköpta konkurs flyttade projektet omorganisation oppkjøpt fusjon nedlagt",
}


def load_texts() -> dict[str, list[str]]:
    texts: dict[str, list[str]] = {"sv": [], "nb": [], "en": []}
    for path in sorted(CORPUS.glob("train_*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                texts[row["lang"]].append(row["text"])
    return texts


def build_answers(count: int, seed: int) -> list[str]:
    """Answers of mixed languages and lengths, reproducible from the seed."""
    pool = load_texts()
    generator = random.Random(seed)
    languages = ["sv", "nb", "en"]
    answers = []
    for _ in range(count):
        language = generator.choice(languages)
        kind = generator.random()
        if kind < 0.55:
            answer = generator.choice(pool[language])
        elif kind < 0.83:
            answer = " ".join(generator.sample(pool[language], generator.randint(2, 4)))
        elif kind < 0.93:
            nordic = generator.choice(pool[generator.choice(["sv", "nb"])])
            answer = f"{nordic} {generator.choice(pool['en'])}"
        elif kind < 0.97:
            parts: list[str] = []
            limit = generator.choice([1500, 3000, 5000])
            while sum(len(part) + 1 for part in parts) < limit:
                parts.append(generator.choice(pool[language]))
            answer = " ".join(parts)[:limit]
        else:
            answer = generator.choice(["", " ", "-", "$$$", "?!", "..."])
        answers.append(answer)
    return answers


def baseline(answers: list[str]) -> list[str | None]:
    """Lower-case, split, count keywords per reason; the most hits wins."""
    keywords = {reason: frozenset(words.split()) for reason, words in BASELINE_KEYWORDS.items()}
    results: list[str | None] = []
    for answer in answers:
        words = answer.lower().split()
        counts = {
            reason: sum(1 for word in words if word.strip(".,!?;:") in listed)
            for reason, listed in keywords.items()
        }
        best = max(counts, key=counts.__getitem__)
        results.append(best if counts[best] else None)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()

    answers = build_answers(arguments.texts, arguments.seed)
    characters = sum(len(answer) for answer in answers)
    print(f"{len(answers)} answers, {characters} characters, longest {max(map(len, answers))}")

    started = time.perf_counter()
    classifier = get_classifier()
    classifier.classify("warm up: loads the stemmers and TextBlob's lexicon")
    print(f"model and libraries loaded in {time.perf_counter() - started:.2f} s")

    errors = 0
    english = 0
    started = time.perf_counter()
    for answer in answers:
        try:
            classification = classifier.classify(answer)
        except Exception as error:  # noqa: BLE001 - a bench counts failures, it does not stop
            errors += 1
            print(f"error: {error!r} on {answer[:60]!r}")
            continue
        if classification.language == "en":
            english += 1
        if any(not 0.0 <= classification.scores[reason] <= 1.0 for reason in REASONS):
            errors += 1
    elapsed = time.perf_counter() - started
    rate = len(answers) / elapsed
    print(
        f"classifier: {elapsed:.2f} s, {rate:,.0f} texts/s, "
        f"{elapsed / len(answers) * 1e6:.0f} µs per text ({english} English with sentiment)"
    )

    started = time.perf_counter()
    baseline(answers)
    baseline_elapsed = time.perf_counter() - started
    baseline_rate = len(answers) / baseline_elapsed
    print(
        f"baseline (keyword counts): {baseline_elapsed:.3f} s, {baseline_rate:,.0f} texts/s, "
        f"{baseline_elapsed / len(answers) * 1e6:.1f} µs per text"
    )
    print(
        json.dumps(
            {
                "texts": len(answers),
                "texts_per_s": round(rate, 1),
                "baseline_texts_per_s": round(baseline_rate, 1),
                "ratio_to_baseline": round(rate / baseline_rate, 4),
                "errors": errors,
            }
        )
    )


if __name__ == "__main__":
    main()
