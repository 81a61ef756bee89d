# Two entry points for a fresh machine: `make demo` (the offline quickstart) and `make test`.
# Both create ./.venv on first use. torch is pinned to 2.13.0 first: on CPU machines that takes the
# CPU wheel; a bare `torch` would pull a multi-GB CUDA build.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUN := runs/quickstart

.PHONY: venv corpora demo test clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip "setuptools>=77" wheel
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# PEYMA for the quickstart: used where data_dir() finds it verified ($$PARSTAG_DATA, ./data/corpora or
# ../shared/data), else downloaded from its public home and checked against the pinned SHA-256 sums.
corpora: venv
	@$(BIN)/python -c "import sys; from parstag.training.corpora import data_dir; \
	from parstag.training.download import check_installed; \
	sys.exit(1 if check_installed(data_dir() / 'peyma', 'peyma') else 0)" \
	|| $(BIN)/parstag data download peyma

demo: corpora
	$(BIN)/parstag train configs/quickstart.yaml
	$(BIN)/parstag evaluate --model $(RUN)/model --data peyma:test --out $(RUN)
	$(BIN)/parstag tag data/samples/seed-report.txt --model $(RUN)/model \
		--out $(RUN)/seed-report.jsonl --html $(RUN)/seed-report.html

test: venv
	$(BIN)/pytest

clean:
	rm -rf $(VENV) runs .pytest_cache .hypothesis
