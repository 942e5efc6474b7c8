"""gunicorn reads this file from the directory it starts in (make run, bench, production)."""

# The access log never shows a personal token (/r/<token>).
logger_class = "surveys.access_log.TokenMaskingLogger"


def post_worker_init(worker) -> None:
    """Load the reason classifier (model, stemmers, TextBlob: about two seconds) as the
    worker starts, so the first person to answer does not wait for it."""
    try:
        from surveys.reasons.nlp.model import get_classifier
    except ImportError:  # a worker of another app, e.g. bench/hello.py
        return
    get_classifier().classify("warm up")
