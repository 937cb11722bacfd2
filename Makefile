# La Malle — the two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export FLASK_APP := wsgi
PIP_QUIET := --quiet --disable-pip-version-check

.PHONY: run test lint format install install-dev translations browser db-upgrade extract-messages bench screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install $(PIP_QUIET) -r requirements.txt 2> >(grep -v "^WARNING: Location" >&2)
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install $(PIP_QUIET) -r requirements-dev.txt 2> >(grep -v "^WARNING: Location" >&2)
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Compiled catalogues are build output, not committed.
translations: $(VENV)/.installed
	$(BIN)/pybabel --quiet compile -d app/translations

db-upgrade: install translations
	$(BIN)/flask db upgrade

run: db-upgrade
	$(BIN)/flask seed-demo --if-empty
	@echo
	@$(BIN)/flask demo-logins
	@echo
	@echo "La Malle: http://$(HOST):$(PORT)/"
	$(BIN)/flask serve --host $(HOST) --port $(PORT)

# Debian's Chromium drives the browser tests; installed here so that a fresh machine needs nothing by hand.
browser:
	@if ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "Could not install chromium: browser tests will fail."; \
	  else echo "chromium is missing (apt-get install chromium as root): browser tests will fail."; fi; \
	fi

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/bandit --quiet --recursive app --severity-level medium --confidence-level medium

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The whole suite on SQLite, then again on PostgreSQL when a server answers at
# TEST_DATABASE_URL. With CI=true the PostgreSQL pass is mandatory.
test: install-dev translations browser lint
	$(BIN)/pytest
	@if $(BIN)/python -m tests.pg_reachable "$(TEST_DATABASE_URL)"; then \
	  echo "=== PostgreSQL pass: $(TEST_DATABASE_URL)"; \
	  LAMALLE_TEST_DATABASE_URL="$(TEST_DATABASE_URL)" $(BIN)/pytest; \
	elif [ "$$CI" = "true" ]; then \
	  echo "CI=true and no PostgreSQL at $(TEST_DATABASE_URL): failing." >&2; exit 1; \
	else \
	  echo "=== No PostgreSQL at $(TEST_DATABASE_URL): PostgreSQL pass skipped."; \
	fi

# The README tour's pictures, taken by the browser tests as they walk through the pages.
screenshots: install-dev translations browser
	SCREENSHOT_DIR=docs/screenshots $(BIN)/pytest -q -m browser -p no:cacheprovider

extract-messages: install-dev
	$(BIN)/pybabel --quiet extract -F babel.cfg -k _l -k lazy_gettext -o app/translations/messages.pot .
	$(BIN)/pybabel --quiet update --no-fuzzy-matching -i app/translations/messages.pot -d app/translations
	$(BIN)/python tools/french_plurals.py

# La Malle and a minimal Flask app under the same gunicorn, driven by wrk (installed if missing):
# `make bench DB=postgres SCALE=1 DURATION=5`; BENCH_ARGS=--no-scaling skips the pass at SCALE/10.
# PostgreSQL uses the database `bench` on 127.0.0.1, dropped and made again. See bench/run.py.
DB ?= sqlite
SCALE ?= 0.1
DURATION ?= 20
BENCH_ARGS ?=
bench: install-dev translations
	$(BIN)/python -m bench.run --db $(DB) --scale $(SCALE) --duration $(DURATION) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
