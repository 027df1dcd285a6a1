# Two commands for a new machine: `make run` and `make test`.
# Both create the virtual environment from the committed lock file first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test suite lint typecheck bench bundle bundle-check frozen-checks clean migration

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

# The bundle builds while the tests run: the build keeps one core busy for about two
# minutes, and the tests leave about that much idle (they wait on databases, servers and
# child processes); one after the other, a clean run took over 20 minutes on a slow
# two-core machine. Then the frozen program's checks run.
test: lint typecheck
	$(MAKE) -j2 suite bundle PYINSTALLER_LOG=ERROR
	$(MAKE) frozen-checks

# Three workers share the tests one at a time (`--dist load`): on two cores a third keeps
# them busy while the others wait. A worker that crashes is replaced and the rest of the
# run goes on, and its test is reported as failed. The 20 slowest tests are listed.
suite: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -n 3 --dist load --max-worker-restart 4 --durations=20

bench: $(STAMP)
	$(BIN)/python -m bench

PYINSTALLER_LOG ?= INFO
bundle: $(STAMP)
	$(BIN)/pyinstaller --noconfirm --clean --log-level $(PYINSTALLER_LOG) build.spec

# Build the bundle, then check the frozen program: its self-check offscreen (a data file or
# Qt plugin missing from build.spec fails here) and its NCIP service with two workers.
bundle-check: bundle
	$(MAKE) frozen-checks

frozen-checks:
	QT_QPA_PLATFORM=offscreen dist/illdesk/illdesk --self-check
	dist/illdesk/illdesk-cli --version
	$(BIN)/python tests/bundle_ncip_workers.py dist/illdesk/illdesk-cli

# Regenerate the single initial migration from the models (only until the first release).
migration: $(STAMP)
	$(BIN)/python -m db.regenerate
	$(BIN)/ruff format db/migrations/versions

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache
