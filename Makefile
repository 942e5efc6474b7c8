# make run: the app with a demo on http://127.0.0.1:5000;  make test: the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
INSTALLED := $(VENV)/.installed-$(shell $(PYTHON) -c "import hashlib,sys; print(hashlib.sha256(open('requirements.txt','rb').read()).hexdigest()[:12])")
CATALOGUES := $(wildcard surveys/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGUES:.po=.mo)
MAIL_SINK_PORT ?= 8025

.PHONY: run test lint format bench install translations catalogues clean worker beat

install: $(INSTALLED)

$(INSTALLED): requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

translations: $(COMPILED)

%.mo: %.po $(INSTALLED)
	$(BIN)/pybabel compile -i $< -o $@

# After changing customer-facing text: find every string, then translate the new
# entries in surveys/translations/{sv,nb}/LC_MESSAGES/messages.po.
catalogues: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k translatable --no-location --sort-output \
		--project surveys -o surveys/translations/messages.pot .
	$(BIN)/pybabel update -i surveys/translations/messages.pot -d surveys/translations \
		--no-fuzzy-matching

run: export SURVEYS_ENV ?= development
run: export MAIL_PORT ?= $(MAIL_SINK_PORT)
run: install translations
	@mkdir -p instance
	$(FLASK) db upgrade
	$(FLASK) demo load
	@$(FLASK) outbox serve --port $(MAIL_SINK_PORT) & sink=$$!; \
	while sleep 60; do $(FLASK) campaigns tick >/dev/null; done & ticker=$$!; \
	trap 'kill $$sink $$ticker 2>/dev/null' EXIT INT TERM; \
	echo; \
	echo "  Open http://127.0.0.1:5000/ and sign in as one of:"; \
	$(FLASK) demo logins; \
	echo "  Sent e-mails land in the outbox: http://127.0.0.1:5000/outbox"; \
	echo "  Stop with Ctrl-C."; \
	echo; \
	$(BIN)/gunicorn --bind 127.0.0.1:5000 --workers 2 --access-logfile - wsgi:app

test: install translations
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install translations
	$(BIN)/python bench/respond.py
	$(BIN)/python bench/classify.py
	$(BIN)/python bench/send.py
	$(BIN)/python bench/import.py

# With a broker (CELERY_BROKER_URL or REDIS_URL): the workers that deliver mail, and the
# scheduler that runs `flask campaigns tick` every minute. Run as many workers as you like.
worker: install translations
	$(BIN)/celery --app wsgi:celery worker --loglevel INFO

beat: install
	@mkdir -p instance
	$(BIN)/celery --app wsgi:celery beat --loglevel INFO --schedule instance/celerybeat-schedule

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
