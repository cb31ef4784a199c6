# Hearth: `make run` sets up and starts the app; `make test` sets up and runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
export HEARTH_TEST_MODELS ?= $(abspath ../shared/models)

.PHONY: setup run test test-py test-node lint bench clean

setup: $(STAMP) $(NPM_STAMP)

$(STAMP): requirements-base.txt requirements-cpu.txt backend/pyproject.toml
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip wheel >/dev/null
	$(PY) -m pip install -r requirements-cpu.txt
	$(PY) -m pip install --no-deps -e backend
	@touch $@

$(NPM_STAMP): package.json
	ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm install --no-audit --no-fund
	@touch $@

run: setup
	$(PY) -m hearth models provision-starter
	$(PY) -m hearth serve

test: setup test-py test-node

test-py: $(STAMP)
	$(PY) -m pytest

test-node: $(NPM_STAMP)
	node --test tests/electron/

lint: $(STAMP)
	$(VENV)/bin/ruff check backend tests bench build
	$(VENV)/bin/ruff format --check backend tests bench build
	$(VENV)/bin/mypy backend/hearth

bench: $(STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; PYTHONPATH=backend $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache .mypy_cache
