# Two entry points, both from a fresh clone:  make demo   and   make test
PYTHON ?= python3
VENV ?= .venv
PASER_SRC ?= ../shared/data/paser
OUT ?= out/paser-demo
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck install

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip "setuptools>=77" wheel
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

install: $(BIN)/.installed

## Run the demo into $(OUT) on the data that ships in data/ (the 3 arc-second SYNTHETIC demo DEM).
## When $(PASER_SRC) exists, its full dataset (with the 1 arc-second demo DEM) is fetched first.
demo: $(BIN)/.installed
	@if [ -d "$(PASER_SRC)" ]; then $(BIN)/blankspot data fetch --from $(PASER_SRC); \
	else echo "$(PASER_SRC) not found: using the embedded demo data"; fi
	$(BIN)/blankspot demo --out $(OUT)

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests benchmarks

typecheck: $(BIN)/.installed
	$(BIN)/mypy

## Lint, type-check, then the whole test suite (doctests included)
test: lint typecheck
	$(BIN)/pytest
