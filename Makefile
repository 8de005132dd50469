# Heron developer entry points.  `make help` lists them.
#
#   make run     -> .venv + frontend build + migrate (SQLite) + seed_demo + uvicorn on :8000
#   make test    -> system packages + .venv + frontend + throwaway PG/Redis + ruff/pytest/vitest/e2e
#
# Override on the command line, e.g. `make run PORT=9000`, `make test PYTEST_ARGS="-k inbox -x"`,
# `make venv PYTHON=/usr/bin/python3.13`.

SHELL := /bin/bash
.DEFAULT_GOAL := help
# Steps depend on each other's side effects (apt before npm, venv before migrate ...).
.NOTPARALLEL:

# Interpreter used to create .venv (must be >= 3.12). Honours pyenv/.python-version.
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell bash scripts/find-python.sh)
endif

VENV       ?= .venv
VENV_PY    := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.installed
HOST       ?= 127.0.0.1
PORT       ?= 8000

# Environment for `make run`, `make migrate` and `make seed`: local, SQLite unless DATABASE_URL is
# already set, no Redis needed; DEBUG, so the development secrets are accepted.
RUN_ENV = DEBUG="$${DEBUG:-1}" \
          PUBLIC_BASE_URL="$${PUBLIC_BASE_URL:-http://$(HOST):$(PORT)}"

# ------------------------------------------------------------------------------- frontend
ifneq ($(wildcard frontend/package.json),)
HAVE_FRONTEND      := 1
FRONTEND_DEPS      := frontend/node_modules/.heron-installed
FRONTEND_BUILD     := frontend/dist/index.html
FRONTEND_LOCK      := $(wildcard frontend/package-lock.json)
# Every source/config file of the frontend (not node_modules, dist or caches).
FRONTEND_SRC       := $(shell find frontend \( -name node_modules -o -name dist -o -name coverage \
                         -o -name .vite -o -name test-results \) -prune -o -type f ! -name '* *' -print 2>/dev/null)
endif

.PHONY: help check-python venv frontend migrate seed run test lint fmt bench \
        services-start services-stop clean distclean

help:
	@echo "Heron make targets:"
	@echo "  make run            build everything, migrate + seed SQLite, serve http://$(HOST):$(PORT)/"
	@echo "  make test           everything CI runs (ruff, backend pytest on PostgreSQL+Redis, vitest, e2e)"
	@echo "  make lint           ruff check ."
	@echo "  make fmt            ruff format + ruff check --fix"
	@echo "  make venv           create .venv and install requirements-dev.txt (only when they change)"
	@echo "  make frontend       npm ci + vite build into frontend/dist (only when sources change)"
	@echo "  make migrate        manage.py migrate (DATABASE_URL or SQLite var/heron.sqlite3)"
	@echo "  make bench          benchmarks (bench/run_all.py) against throwaway PostgreSQL+Redis"
	@echo "  make services-start throwaway PostgreSQL :55432 + Redis :56379 (eval \"\$$(bash scripts/test-services.sh env)\")"
	@echo "  make services-stop  stop them and delete their data"
	@echo "  make clean          remove build output and caches (keeps .venv, node_modules, var/)"
	@echo "  make distclean      clean + remove .venv, frontend/node_modules and var/ (dev database!)"
	@echo "Python for .venv: $(or $(PYTHON),<none found>)"

check-python:
	@bash scripts/find-python.sh --check "$(PYTHON)"

# ----------------------------------------------------------------------------------- venv
venv: $(VENV_STAMP)

$(VENV_STAMP): requirements.txt requirements-dev.txt | check-python
	@if [ -x "$(VENV_PY)" ] && bash scripts/find-python.sh --check "$(VENV_PY)" 2>/dev/null; then \
		echo "Reusing $(VENV) ($$($(VENV_PY) -V))"; \
	else \
		echo "Creating $(VENV) with $(PYTHON) ($$($(PYTHON) -V))"; \
		rm -rf "$(VENV)" && "$(PYTHON)" -m venv "$(VENV)"; \
	fi
	$(VENV_PY) -m pip install --disable-pip-version-check --progress-bar off -q -r requirements-dev.txt
	@touch $@

# ------------------------------------------------------------------------------- frontend
ifdef HAVE_FRONTEND
frontend: $(FRONTEND_BUILD)

$(FRONTEND_DEPS): frontend/package.json $(FRONTEND_LOCK)
	@command -v npm >/dev/null || { echo "npm not found: install Node.js >= 20 (apt-get install nodejs npm)" >&2; exit 1; }
	cd frontend && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
	@touch $@

$(FRONTEND_BUILD): $(FRONTEND_DEPS) $(FRONTEND_SRC)
	cd frontend && npm run build
	@test -f $@ || { echo "frontend build did not produce $@" >&2; exit 1; }
	@touch $@
else
frontend:
	@echo "frontend/package.json not found; skipping frontend build"
endif

# --------------------------------------------------------------------------------- django
migrate: venv
	@mkdir -p var
	$(RUN_ENV) $(VENV_PY) manage.py migrate --noinput

seed: migrate
	$(RUN_ENV) $(VENV_PY) manage.py seed_demo

run: venv frontend
	@mkdir -p var
	$(RUN_ENV) $(VENV_PY) manage.py migrate --noinput
	$(RUN_ENV) $(VENV_PY) manage.py seed_demo
	@echo "http://$(HOST):$(PORT)" > var/run-url  # for `manage.py simulate` from another shell
	@echo
	@echo "  Heron is starting at  http://$(HOST):$(PORT)/   (Ctrl-C to stop)"
	@echo
	$(RUN_ENV) $(VENV)/bin/uvicorn config.asgi:application --host $(HOST) --port $(PORT) --no-proxy-headers

# ---------------------------------------------------------------------------------- tests
test: check-python
	@bash scripts/ensure-system-deps.sh
	@$(MAKE) --no-print-directory venv frontend
	@VENV=$(VENV) bash scripts/run-tests.sh

lint: venv
	$(VENV)/bin/ruff check .

fmt: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: venv
	@VENV=$(VENV) bash scripts/run-bench.sh

services-start:
	@bash scripts/test-services.sh start
	@bash scripts/test-services.sh env

services-stop:
	@bash scripts/test-services.sh stop

# ---------------------------------------------------------------------------------- clean
clean:
	@if [ -d var/test-services ]; then bash scripts/test-services.sh stop; fi
	rm -rf frontend/dist .pytest_cache .ruff_cache test-results frontend/test-results frontend/coverage
	find . \( -path ./.venv -o -path ./frontend/node_modules -o -path ./.git \) -prune -o \
		-type d -name __pycache__ -print0 | xargs -0 -r rm -rf

distclean: clean
	rm -rf "$(VENV)" frontend/node_modules var
