# RepCoach: `make run` to chat in the terminal, `make test` to run every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check lint transcripts unit system-deps bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/repcoach db upgrade
	$(BIN)/repcoach chat

check: $(STAMP)
	$(BIN)/repcoach check playbooks
	$(BIN)/repcoach schema --check playbooks tests/transcripts
	$(BIN)/repcoach docs --check
	$(BIN)/ruff check bot coach testkit tests bench
	$(BIN)/mypy

lint: check

# The shipped conversation transcripts, run as an author runs them (engine alone, SQLite).
transcripts: $(STAMP)
	$(BIN)/repcoach test -q tests/transcripts --playbooks playbooks

system-deps:
	bash .ci/install-system-deps.sh

unit: $(STAMP) system-deps
	$(BIN)/pytest -q

test: check transcripts unit

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
