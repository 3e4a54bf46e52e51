# DLSC portal. `make run` starts the site with demo data; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.12 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
export DJANGO_SETTINGS_MODULE := dlsc.settings

.PHONY: help run test test-fast lint format messages compilemessages migrate seed bench clean vendor

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

compilemessages: $(STAMP) ## Compile the translations
	$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=node_modules --verbosity 0

migrate: $(STAMP) ## Apply database migrations
	$(BIN)/python manage.py migrate --no-input

seed: migrate ## Load the demo data (idempotent)
	$(BIN)/python manage.py seed_demo

run: $(STAMP) compilemessages ## Start web, Celery worker and beat on http://127.0.0.1:8000 (PORT=...) with demo data, no outside service
	@# Mail is kept in the outbox (readable in the admin) and not printed; demo links point at this PORT.
	@export EMAIL_URL=$${EMAIL_URL:-dummy://} SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)}; \
	$(MAKE) --no-print-directory seed || exit 1; \
	trap 'trap - EXIT INT TERM; kill 0' EXIT INT TERM; \
	$(BIN)/celery -A dlsc worker --loglevel=WARNING --concurrency=1 --pool=solo & \
	$(BIN)/celery -A dlsc beat --loglevel=WARNING & \
	$(BIN)/python manage.py demo_logins --wait 120 & \
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# Test processes in parallel (pytest-xdist): more than the cores, since browser and worker tests mostly wait.
TEST_WORKERS ?= 3

test: $(STAMP) compilemessages ## Run every test in parallel (uses DATABASE_URL and REDIS_URL when set)
	STATIC_MANIFEST=1 $(BIN)/python manage.py collectstatic --no-input --verbosity 0
	$(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

test-fast: $(STAMP) compilemessages ## The inner loop: every test but those that drive Chromium or start Celery workers
	$(BIN)/pytest -n $(TEST_WORKERS) -m "not browser and not worker" $(PYTEST_ARGS)

lint: $(STAMP) ## ruff check and format check, the layers (import-linter, pyproject.toml), no missing migrations
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo
	$(BIN)/python manage.py makemigrations --check --dry-run

format: $(STAMP) ## Format the code with ruff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: $(STAMP) ## Update locale/da/LC_MESSAGES/django.po from the code and templates
	$(BIN)/python manage.py makemessages -l da --no-location --ignore=.venv --ignore=node_modules --ignore=staticfiles --ignore=bench --ignore=tests
	$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=node_modules --verbosity 0

vendor: ## Copy the web font from npm (package.json) into static/vendor/; the result is committed, so run needs no npm
	npm ci --no-audit --no-fund --ignore-scripts
	$(BIN)/python scripts/vendor_fonts.py

bench: $(STAMP) ## Run the benchmarks in bench/ (needs PostgreSQL and Redis); stops at the first that fails its own check
	@# Each bench prints one JSON line and exits non-zero when its own correctness check fails.
	@for script in bench/*.py; do \
		echo "== $$script" >&2; \
		$(BIN)/python $$script || { echo "make bench: $$script failed its check (exit $$?)" >&2; exit 1; }; \
	done

clean: ## Remove the virtualenv, the SQLite database and collected files
	rm -rf $(VENV) db.sqlite3 staticfiles .celery-broker .celerybeat-schedule*
