# Two commands for a new machine: `make run` and `make test`.
# Both create the virtual environment from the committed lock file first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck bench bundle bundle-check clean migration

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "ILL Desk needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/illdesk --demo-if-new

lint: $(STAMP)
	$(BIN)/ruff check app db ui tests bench
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

# Three workers share the tests one at a time (`--dist load`): on two cores a third keeps
# them busy while the others wait on a database, a server or a child process (two left a
# third of the CPU idle). A worker that crashes is replaced and the rest of the run goes
# on, and its test is reported as failed. The 20 slowest tests are listed at the end.
test: lint typecheck
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -n 3 --dist load --max-worker-restart 4 --durations=20
	$(MAKE) bundle-check

bench: $(STAMP)
	$(BIN)/python -m bench

bundle: $(STAMP)
	$(BIN)/pyinstaller --noconfirm --clean build.spec

# Build the bundle, then run the frozen program's self-check offscreen: a data file or Qt
# plugin missing from build.spec fails here (about two minutes on a two-core machine).
bundle-check: bundle
	QT_QPA_PLATFORM=offscreen dist/illdesk/illdesk --self-check
	dist/illdesk/illdesk-cli --version
	$(BIN)/python tests/bundle_ncip_workers.py dist/illdesk/illdesk-cli

# Regenerate the single initial migration from the models (only until the first release).
migration: $(STAMP)
	$(BIN)/python -m db.regenerate
	$(BIN)/ruff format db/migrations/versions

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache
