# The two commands: `make run` (app on SQLite with demo data) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
# Test processes: two use both cores of the CI machine (each test module stays in one process: --dist loadfile).
# A crashed test process ends the run (--max-worker-restart=0): pytest-xdist 3.8 can hang for good when it
# replaces a crashed process under --dist loadfile (pytest-xdist issues 784, 1323, 1378).
TEST_WORKERS ?= 2

.PHONY: run test setup lint browser clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/flask --app wsgi demo --if-empty
	$(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT)

# The browsers for the browser tests: Debian's Chromium, and WebKitGTK (Safari's engine) with Xvfb.
browser:
	@bash scripts/install_browsers.sh

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP) browser lint
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile --max-worker-restart=0 $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
