# Two entry points for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
OUT ?= runs/reference

.PHONY: run test lint bench clean chromium notebook

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[calibrate]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

## Simulate the reference city and write its outputs.
run: $(VENV)/.installed
	rm -rf $(OUT)
	$(BIN)/xinyong simulate --scenario reference --out $(OUT)
	$(BIN)/xinyong report $(OUT)
	@echo "To type xinyong yourself, activate the environment first: . $(BIN)/activate"

## Install JupyterLab (the notebook extra) and open the example notebooks in it.
notebook: $(VENV)/.installed-notebook
	$(BIN)/jupyter lab examples/

$(VENV)/.installed-notebook: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[notebook]'
	touch $@ $(VENV)/.installed

## Lint and type-check, then run the test suite (browser tests drive Debian's chromium,
## installed if missing).
test: $(VENV)/.installed-test chromium
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -q -n 2 --dist loadgroup

chromium:
	@command -v chromium >/dev/null || { apt-get update -q && apt-get install -y -q chromium; }

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Speed and memory figures for the full reference city.
bench: $(VENV)/.installed
	$(BIN)/python benchmarks/reference_city.py

clean:
	rm -rf $(VENV) runs .pytest_cache
