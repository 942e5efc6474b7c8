from surveys import create_app

app = create_app()
# `celery --app wsgi:celery worker` (and `beat`): the same app's tasks.
celery = app.extensions["celery"]
