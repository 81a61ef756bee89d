# Two entry points for a fresh machine: `make demo` (the offline quickstart) and `make test`.
# Both create ./.venv on first use. torch is pinned to 2.13.0 first: on CPU machines that takes the
# CPU wheel; a bare `torch` would pull a multi-GB CUDA build.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUN := runs/quickstart

.PHONY: venv demo test clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip "setuptools>=77" wheel
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

demo: venv
	$(BIN)/parstag train configs/quickstart.yaml
	$(BIN)/parstag evaluate --model $(RUN)/model --data peyma:test --out $(RUN)
	$(BIN)/parstag tag data/samples/seed-report.txt --model $(RUN)/model \
		--out $(RUN)/seed-report.jsonl --html $(RUN)/seed-report.html

test: venv
	$(BIN)/pytest

clean:
	rm -rf $(VENV) runs .pytest_cache .hypothesis
