# casemgr: the reassessment desk. `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test bench lint install install-dev migrate seed sweep clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	mkdir -p var
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

## run: set up (venv, install, migrate, demo data) and start web, Celery worker and beat.
## Embedded defaults: SQLite in var/, evidence in var/evidence, a filesystem broker in var/broker.
## DATABASE_URL / REDIS_URL switch to PostgreSQL / Redis.
run: seed
	@echo
	@echo "  Portal:       http://$(HOST):$(PORT)/"
	@echo "  Triage desk:  http://$(HOST):$(PORT)/admin/"
	@echo "  SLA report:   http://$(HOST):$(PORT)/reports/sla/"
	@echo "  API docs:     http://$(HOST):$(PORT)/api/docs/"
	@echo "  Demo logins (password: demo-pass-2026): see the list printed by seed_demo above."
	@echo
	@mkdir -p var/broker/out var/broker/processed
	@trap 'kill 0' EXIT INT TERM; \
	$(PY) -m celery -A casemgr worker --loglevel=INFO --concurrency=2 --hostname=worker@%h & \
	$(PY) -m celery -A casemgr beat --loglevel=INFO --schedule=var/celerybeat-schedule & \
	$(PY) manage.py runserver --noreload $(HOST):$(PORT)

## test: set up and run the whole suite (SQLite by default; PostgreSQL/Redis with DATABASE_URL/REDIS_URL).
test: install-dev
	$(PY) -m pytest $(PYTEST_ARGS)

## bench: seed PostgreSQL with 1,000,000 requests and print the figures (not part of `make test`).
bench: install-dev
	$(PY) manage.py bench

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

sweep: install
	$(PY) manage.py sla_sweep

clean:
	rm -rf var $(VENV)
