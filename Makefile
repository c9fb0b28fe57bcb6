# consular: `make run` to try it, `make test` to check it. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PORT ?= 8000
VENV ?= .venv
BIN := $(VENV)/bin
# Django 6 needs Python 3.12 or newer: take the first one found on PATH or under pyenv.
PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 python3 $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do \
	"$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && { echo "$$p"; break; }; done)
MANAGE := $(BIN)/python manage.py

.PHONY: help build run test test-faults bench lint messages makemessages clean

help:
	@echo "make run    install, migrate, load geography and demo data, start web + worker + beat"
	@echo "make test   lint, type-check, layer contracts, migrations check and the test suite"
	@echo "make build  what a deployment builds from a checkout: compiled translations, static files"
	@echo "make bench  benchmarks"
	@echo "make test-faults  the fault-injection suite (docs/reliability.md)"

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is required (Django 6)." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime-installed $@

APPS := core accounts regions registrations advisories notifications cases peers departures console

# The compiled catalogues (.mo) are not committed, so that engineers editing the .po files at
# once do not conflict on binaries: every checkout that runs compiles them (`check --deploy`
# fails while one is missing or older than its .po).
messages: | $(BIN)/python
	$(MANAGE) compilemessages --ignore=.venv --verbosity 0

build: $(VENV)/.runtime-installed messages
	$(MANAGE) collectstatic --noinput --verbosity 0

# Refresh the French catalogues: one per app, and the project's for templates/.
makemessages: | $(BIN)/python
	for app in $(APPS); do mkdir -p $$app/locale && (cd $$app && ../$(BIN)/django-admin makemessages -l fr --no-obsolete --no-location); done
	$(MANAGE) makemessages -l fr --no-obsolete --no-location $(foreach dir,$(APPS) tests .venv,--ignore=$(dir))

# Web, worker and beat, and the demo data, learn the port as CONSULAR_PORT: links in messages,
# CAP and Atom point to it unless SITE_URL says otherwise.
run: export CONSULAR_PORT := $(PORT)
run: $(VENV)/.runtime-installed messages
	mkdir -p var
	$(MANAGE) migrate --noinput
	$(MANAGE) load_geography
	$(MANAGE) seed_demo
	@echo
	@echo "consular is starting on http://127.0.0.1:$(PORT)/"
	@echo "  public site     http://127.0.0.1:$(PORT)/"
	@echo "  staff admin     http://127.0.0.1:$(PORT)/admin/"
	@echo "  API docs        http://127.0.0.1:$(PORT)/api/docs/"
	@echo "  health          http://127.0.0.1:$(PORT)/healthz"
	@echo "Ctrl-C stops web, worker and beat."
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho start -f Procfile

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports
	$(MANAGE) makemigrations --check --dry-run

test: $(VENV)/.dev-installed messages lint
	$(BIN)/pytest

# The fault-injection suite (docs/reliability.md) kills and restarts its PostgreSQL, RabbitMQ and
# Redis: it starts its own on other ports (tests/faults/services.py), never the shared ones.
test-faults: $(VENV)/.dev-installed
	$(BIN)/python -m tests.faults.services $(BIN)/pytest -m faults -s -p no:cacheprovider tests/faults

# The benchmark (bench/, outside the product apps) runs on its own PostgreSQL database (created
# if missing) and the real broker.
BENCH_DB ?= consular_bench
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/$(BENCH_DB)
# Its own RabbitMQ virtual host too, so no other worker on the machine takes its messages.
BENCH_VHOST ?= consular_bench
BENCH_BROKER_URL ?= amqp://guest:guest@127.0.0.1:5672/$(BENCH_VHOST)
BENCH_CACHE_URL ?= redis://127.0.0.1:6379/2
BENCH_ARGS ?=
# The web benchmark (bench/web.py): gunicorn with production settings, loaded by wrk.
BENCH_WEB_ARGS ?=
# From an approval to the first message a sink accepts (bench/first_message.py).
BENCH_FIRST_MESSAGE_ARGS ?=
# The assisted departure's allocation run (bench/departures.py): 20,000 intents, 100 options.
BENCH_DEPARTURES_ARGS ?=
# The crisis console's page at 100,000 registrants (bench/console.py), timed server-side.
BENCH_CONSOLE_ARGS ?=
BENCH_ENV := DATABASE_URL=$(BENCH_DATABASE_URL) CELERY_BROKER_URL=$(BENCH_BROKER_URL) \
	CACHE_URL=$(BENCH_CACHE_URL) ALERT_RATE_EMAIL=1000000 ALERT_RATE_SMS=1000000 LOG_LEVEL=WARNING

bench: $(VENV)/.dev-installed messages
	createdb -h 127.0.0.1 -U postgres $(BENCH_DB) 2>/dev/null || true
	rabbitmqctl -q add_vhost $(BENCH_VHOST) 2>/dev/null || true
	rabbitmqctl -q set_permissions -p $(BENCH_VHOST) guest ".*" ".*" ".*"
	$(BENCH_ENV) $(MANAGE) migrate --noinput --verbosity 0
	$(BENCH_ENV) $(BIN)/python -m bench $(BENCH_ARGS)
	$(BENCH_ENV) $(BIN)/python -m bench web $(BENCH_WEB_ARGS)
	$(BENCH_ENV) $(BIN)/python -m bench first-message $(BENCH_FIRST_MESSAGE_ARGS)
	$(BENCH_ENV) $(BIN)/python -m bench --departures $(BENCH_DEPARTURES_ARGS)
	$(BENCH_ENV) $(BIN)/python -m bench --console $(BENCH_CONSOLE_ARGS)

clean:
	rm -rf var .mypy_cache .ruff_cache .pytest_cache test-artifacts
