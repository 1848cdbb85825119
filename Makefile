# Two entry points for a fresh clone:  make demo  (install + run on the bundled sample)  and  make test.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint clean sandbox-tools

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[train,agent]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed-demo

demo: $(VENV)/.installed-demo sandbox-tools
	$(BIN)/gristmill run examples/recipes/minimal.yaml --input data/dirty.jsonl.gz --output out/demo-dirty --overwrite
	$(BIN)/python examples/demo.py --out out/demo

test: $(VENV)/.installed-test sandbox-tools
	$(BIN)/ruff check src tests bench scripts examples
	$(BIN)/python -m pytest -q

# LLM-written operators run only inside a bubblewrap sandbox (namespaces, no network, read-only view)
sandbox-tools:
	@command -v bwrap >/dev/null 2>&1 || { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; \
	else echo "note: install bubblewrap (apt-get install bubblewrap) to run LLM-written operators"; fi; }

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench scripts examples

clean:
	rm -rf $(VENV) out
