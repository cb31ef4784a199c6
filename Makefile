# Hearth: `make run` sets up and starts the app; `make test` sets up and runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
export HEARTH_TEST_MODELS ?= $(abspath ../shared/models)
# The upgrade's overlay test also runs against the frozen backend once `make frozen` built it.
export HEARTH_FROZEN_BACKEND ?= $(abspath dist/hearth-backend/hearth-backend)

FRONTEND_STAMP := frontend/node_modules/.installed
UI := frontend/dist/index.html
UI_SOURCES := $(shell find frontend/src frontend/public -type f 2>/dev/null) frontend/index.html \
	frontend/vite.config.ts frontend/tsconfig.json

FROZEN := dist/hearth-backend/hearth-backend
FROZEN_SOURCES := backend.spec build/hearth_backend_entry.py build/bundle_runtime.py \
	build/frozen_selfcheck.py build/strip_libraries.py build/otlp_exporter_stub.py build/bundle_size.py \
	$(shell find backend/hearth -name '*.py' -o -name '*.json')

.PHONY: setup ui run test test-py test-oldest-cpu test-node test-ui test-e2e lint bench clean frozen \
	installer-backend installer-starter

setup: $(STAMP) $(NPM_STAMP) $(UI)

# numpy and llama-cpp-python first, each built its own way: numpy without BLAS
# (build/numpy-without-blas), llama-cpp-python for every x86-64 CPU by build/build-cpu-runtime
# (the same wheel the installer ships); the requirements then find both installed.
$(STAMP): requirements-base.txt requirements-cpu.txt backend/pyproject.toml build/build-cpu-runtime \
		build/numpy-without-blas
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip wheel >/dev/null
	$(PY) build/numpy-without-blas $(PY)
	$(PY) build/build-cpu-runtime --install $(PY)
	$(PY) -m pip install -r requirements-cpu.txt
	$(PY) -m pip install --no-deps -e backend
	@touch $@

$(NPM_STAMP): package.json
	ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm install --no-audit --no-fund
	@touch $@

$(FRONTEND_STAMP): frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	@touch $@

$(UI): $(FRONTEND_STAMP) $(UI_SOURCES)
	cd frontend && npm run build

ui: $(UI)

# The backend frozen with PyInstaller, using this checkout's .venv (about a minute).
frozen: $(FROZEN)

$(FROZEN): $(STAMP) $(UI) $(FROZEN_SOURCES)
	$(PY) build/build-backend --fast

# Release build: the same CPU runtime wheel, unpacked fresh from build/build-cpu-runtime's cache.
installer-backend: $(STAMP) $(UI)
	$(PY) build/build-backend

# The starter model for an installer to carry (build/starter/, picked up by package.json), so
# that a PC that is never online can chat at its first run: fetched and checked against its pin.
installer-starter: $(STAMP)
	HEARTH_MODELS_DIR=$(abspath build/starter) $(PY) -m hearth models provision-starter

# Electron where it is installed, else the same UI in the browser (web mode).
run: setup
	$(PY) -m hearth models provision-starter
	$(PY) build/run.py

test: setup frozen test-py test-oldest-cpu test-node test-ui test-e2e

test-py: $(STAMP)
	$(PY) -m pytest

# The real-model tests again on the oldest CPU variant (x64: SSE2 only), as on a PC this machine
# is not; test-py ran them on the best variant this processor has.
test-oldest-cpu: $(STAMP)
	HEARTH_CPU_VARIANT=x64 $(PY) -m pytest -q -p no:cacheprovider tests/backend/engine \
		tests/backend/api/test_chat.py tests/backend/api/test_openai.py

test-node: $(NPM_STAMP)
	node --test tests/electron/

test-ui: $(FRONTEND_STAMP)
	cd frontend && npm test

test-e2e: $(STAMP) $(UI)
	cd frontend && npm run e2e

# The build scripts without a .py suffix, which ruff does not find by itself.
SCRIPTS := build/build-backend build/build-cpu-runtime build/build-cuda-runtime build/prove-gpu \
	build/update-runtime-registry build/numpy-without-blas

lint: $(STAMP) $(FRONTEND_STAMP)
	$(VENV)/bin/ruff check backend tests bench build $(SCRIPTS)
	$(VENV)/bin/ruff format --check backend tests bench build $(SCRIPTS)
	$(VENV)/bin/mypy backend/hearth
	cd frontend && npm run lint

bench: $(STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; PYTHONPATH=backend $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache .mypy_cache \
		frontend/node_modules frontend/dist frontend/test-results
