# Two entry points for a fresh clone:  make demo  (install + run on the bundled sample)  and  make test.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[train,agent]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed-demo

demo: $(VENV)/.installed-demo
	$(BIN)/gristmill run examples/recipes/minimal.yaml --input data/dirty.jsonl.gz --output out/demo-dirty --overwrite
	$(BIN)/python examples/demo.py --out out/demo

test: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench scripts examples
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench scripts examples

clean:
	rm -rf $(VENV) out
