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

# $(call verified,NAME) succeeds when data_dir() ($$PARSTAG_DATA, ./data/corpora or ../shared/data) holds
# NAME with every file matching its pinned SHA-256 sum.
verified = $(BIN)/python -c "import sys; from parstag.training.corpora import data_dir; \
	from parstag.training.download import check_installed; \
	sys.exit(1 if check_installed(data_dir('$(1)') / '$(1)', '$(1)') else 0)"

# PEYMA for the quickstart: used where data_dir() finds it verified, else downloaded from its public home
# and checked against the pinned SHA-256 sums.
corpora: venv
	@$(call verified,peyma) || $(BIN)/parstag data download peyma

# Silver quote data for the quickstart: the rules' annotations of every raw news article that is not in the
# quote gold (train, dev or test). Not committed (the news is not ours to publish): built from the news where
# data_dir() finds it verified, else downloaded like PEYMA. Order-only on corpora, so that a PEYMA download
# has settled data_dir() first; rebuilt when the rules or the gold train split change.
SILVER := data/quotes/silver/all.jsonl
$(SILVER): inference/quote_rules.py inference/quote_rule_lexicon.py inference/quotes.py inference/quote_speakers.py inference/quote_text.py data/quotes/gold/train.jsonl | corpora
	@$(call verified,news) || $(BIN)/parstag data download news
	$(BIN)/parstag data silver --out $@

demo: corpora $(SILVER)
	$(BIN)/parstag train configs/quickstart.yaml
	$(BIN)/parstag evaluate --model $(RUN)/model --data peyma:test data/quotes/gold/test.jsonl --out $(RUN)
	$(BIN)/parstag tag data/samples/seed-report.txt --model $(RUN)/model \
		--out $(RUN)/seed-report.jsonl --html $(RUN)/seed-report.html

test: venv
	$(BIN)/pytest

clean:
	rm -rf $(VENV) runs .pytest_cache .hypothesis
