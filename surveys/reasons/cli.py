import json
from datetime import UTC, datetime, timedelta
from typing import TextIO

import click
from flask.cli import AppGroup

reasons = AppGroup("reasons", help="The reason classifier and the price-as-cover report.")


@reasons.command("train")
def train_command() -> None:
    """Rebuild the classifier's model file from the training corpus."""
    from surveys.reasons.nlp.evaluation import format_report
    from surveys.reasons.nlp.training import MODEL_PATH, train, write_model

    click.echo("Training on surveys/reasons/data (cross-validating first) ...")
    result = train()
    write_model(result.model)
    folds = result.model["cross_validation"]["folds"]
    click.echo(f"Stratified {folds}-fold cross-validation (out-of-fold predictions):")
    for line in format_report(result.cross_validation):
        click.echo(line)
    thresholds = ", ".join(
        f"{reason} {value:.3f}" for reason, value in result.model["thresholds"].items()
    )
    click.echo(f"\nThresholds for a second reason: {thresholds}")
    parts = ", ".join(
        f"{reason} {value:g}" for reason, value in result.model["part_weights"].items()
    )
    click.echo(f"Weight of the strongest complaining clause beside the whole text: {parts}")
    click.echo(f"Wrote {MODEL_PATH} ({len(result.model['weights'])} weights).")


@reasons.command("evaluate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--use-language-hint",
    is_flag=True,
    help="Pass each row's lang to the classifier as the contact's language.",
)
def evaluate_command(file: str, use_language_hint: bool) -> None:
    """Top-1 accuracy, macro-F1, exact-set accuracy, the spurious-attention rate and a
    confusion table for a labelled CSV file (columns text, lang, labels; labels joined
    by '|')."""
    from surveys.reasons.nlp.evaluation import Prediction, evaluate, format_report, read_examples
    from surveys.reasons.nlp.model import get_classifier

    try:
        examples = read_examples(file)
    except (ValueError, KeyError, UnicodeDecodeError) as error:
        raise click.ClickException(str(error)) from error
    classifier = get_classifier()
    predictions = []
    for example in examples:
        hint = example.language if use_language_hint else None
        classification = classifier.classify(example.text, hint)
        predictions.append(
            Prediction(
                classification.top_reason,
                tuple(classification.reasons),
                classification.language,
            )
        )
    for line in format_report(evaluate(examples, predictions)):
        click.echo(line)


@reasons.command("classify")
@click.argument("source", type=click.File("r", encoding="utf-8"), default="-")
@click.option(
    "--language-hint",
    "-l",
    type=click.Choice(["sv", "nb", "en"]),
    default=None,
    help="The writers' language setting; it only breaks ties.",
)
def classify_command(source: TextIO, language_hint: str | None) -> None:
    """Classify one text per line of SOURCE (default: standard input); write one JSON
    object per line."""
    from surveys.reasons.nlp.model import get_classifier

    classifier = get_classifier()
    for line in source:
        text = line.rstrip("\r\n")
        classification = classifier.classify(text, language_hint)
        click.echo(json.dumps(classification.as_json(), ensure_ascii=False))


@reasons.command("reclassify")
def reclassify_command() -> None:
    """Classify every stored answer again, e.g. after the model changed."""
    from surveys.extensions import db
    from surveys.reasons.services import count_answers, reclassify_all

    total = count_answers(db.session)
    with click.progressbar(length=total, label="Classifying answers") as bar:
        done = reclassify_all(db.session, progress=bar.update)
    click.echo(f"{done} answers classified")


@reasons.command("report")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Answers from this date (YYYY-MM-DD; default: the last 12 months).",
)
@click.option(
    "--min-signals",
    type=click.IntRange(1, 4),
    default=1,
    show_default=True,
    help="Count a price-as-cover verdict only on this many independent signals.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def report_command(since: datetime | None, min_signals: int, as_json: bool) -> None:
    """Stated against found reasons, the share of price answers that are a cover, and each
    account's verdict with its strength and evidence."""
    from flask import current_app

    from surveys.auth.access import Scope
    from surveys.extensions import db
    from surveys.reasons.services import ReasonFilters, reasons_report
    from surveys.reports.rows import reasons_report_row

    start = (
        since.replace(tzinfo=UTC)
        if since
        else datetime.now(UTC) - timedelta(days=current_app.config["REPORT_WINDOW_DAYS"])
    )
    result = reasons_report(
        db.session, ReasonFilters(scope=Scope.system(), since=start, min_signals=min_signals)
    )
    if as_json:
        click.echo(json.dumps(reasons_report_row(result), ensure_ascii=False))
        return
    click.echo(f"Answers since {start:%Y-%m-%d}")
    click.echo("reason      stated  found")
    for reason in result.stated:
        click.echo(f"{reason:<10} {result.stated[reason]:>7} {result.found[reason]:>6}")
    if result.price_answers:
        click.echo(
            f"Price is a cover in {result.price_covers} of {result.price_answers} price answers "
            f"({100 * result.price_cover_share:.0f}%)."
        )
    for row in result.accounts:
        verdict = {True: "PRICE AS COVER", False: "price, no cover signal", None: "-"}[
            row.verdict.price_is_cover
        ]
        strongest = row.verdict.strongest
        if strongest is not None:
            verdict += f" ({strongest.strength} of 4 signals: {', '.join(strongest.sources)})"
        click.echo(f"{row.account.external_id:<10} {row.account.name[:36]:<36} {verdict}")
        for signal in row.verdict.evidence:
            click.echo(f"    {signal.signal}: {signal.detail}")
