# Two commands do everything: `make run` and `make test` (see README.md).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-sqlite test-postgres bench screenshots install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements.txt requirements-test.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@

.env:
	cp .env.example .env

install: $(VENV)/.installed .env

install-test: $(VENV)/.installed-test

## Install, migrate, load the catalog and demo data, ensure an admin login, then serve the console
## (with the background worker) until Ctrl-C.
run: install
	scripts/ensure-pdf-libraries.sh
	$(MANAGE) migrate --no-input
	$(MANAGE) load_catalog
	$(MANAGE) load_demo
	$(MANAGE) ensure_admin
	$(MANAGE) collectstatic --no-input --verbosity 0
	@echo "Console: http://$(HOST):$(PORT)/admin/   API docs: http://$(HOST):$(PORT)/api/docs/"
	@echo "Privacy center (one per demo account): http://$(HOST):$(PORT)/privacy/nordlys-support-ab/"
	$(BIN)/python scripts/serve.py --host $(HOST) --port $(PORT)

## The whole suite: on SQLite, then on PostgreSQL (throwaway PostgreSQL and Redis servers on 127.0.0.1;
## Redis carries the task queue's integration test; the browser tests drive Debian's Chromium).
test: install-test .env
	scripts/ensure-chromium.sh
	scripts/ensure-pdf-libraries.sh
	scripts/with-redis.sh $(BIN)/pytest -n 2
	scripts/with-postgres.sh scripts/with-redis.sh $(BIN)/pytest -n 2

test-sqlite: install-test .env
	scripts/ensure-chromium.sh
	scripts/ensure-pdf-libraries.sh
	scripts/with-redis.sh $(BIN)/pytest -n 2

test-postgres: install-test .env
	scripts/ensure-chromium.sh
	scripts/ensure-pdf-libraries.sh
	scripts/with-postgres.sh scripts/with-redis.sh $(BIN)/pytest -n 2

## Benchmarks on SQLite; BENCH_POSTGRES=1 on a throwaway PostgreSQL; BENCH_SIZE=small for a quick run.
bench: install-test
ifeq ($(BENCH_POSTGRES),1)
	scripts/with-postgres.sh sh -c 'BENCH_DATABASE_URL=$$DATABASE_URL $(BIN)/python scripts/bench.py'
else
	$(BIN)/python scripts/bench.py
endif

## The README's screenshots, taken by the browser tests' flows.
screenshots: install-test .env
	scripts/ensure-chromium.sh
	scripts/ensure-pdf-libraries.sh
	SCREENSHOTS_DIR=docs/screenshots $(BIN)/pytest tests/browser

clean:
	rm -rf $(VENV) var .pytest_cache
