# Two entry points, both from a fresh clone:  make demo   and   make test
PYTHON ?= python3
VENV ?= .venv
PASER_SRC ?= ../shared/data/paser
OUT ?= out/paser-demo
BIN := $(VENV)/bin

.PHONY: demo test lint install

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

install: $(BIN)/.installed

## Fetch the Paser dataset into ./data (checksums verified) and run the demo into $(OUT)
demo: $(BIN)/.installed
	$(BIN)/blankspot data fetch --from $(PASER_SRC)
	$(BIN)/blankspot demo --out $(OUT)

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests benchmarks

## Lint, then the whole test suite
test: lint
	$(BIN)/pytest
