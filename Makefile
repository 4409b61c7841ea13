# The two commands a new user needs:  make run   and   make test
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
EXTRAS ?= viz,cluster,dev,calibration
SCENARIO ?= scenarios/baseline.yaml

.PHONY: run test test-all lint format bench browser clean viz-shot

$(STAMP): pyproject.toml scripts/find-python.sh
	@PYBIN=$$(scripts/find-python.sh) || exit 1; \
	echo "using $$PYBIN"; \
	[ -x $(PY) ] || $$PYBIN -m venv $(VENV); \
	$(PY) -m pip install -q --upgrade pip && \
	$(PY) -m pip install -q -e ".[$(EXTRAS)]" && touch $(STAMP)

## Set everything up, then run the baseline scenario into results/
run: $(STAMP)
	$(VENV)/bin/eipsim run $(SCENARIO)

## Set everything up (including Debian's chromium for the browser test), then run the tests
test: $(STAMP) browser
	$(PY) -m pytest -m "not slow" -q

## Everything, including the slow cases
test-all: $(STAMP) browser
	$(PY) -m pytest -q

browser:
	@command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || \
	  { echo "installing Debian's chromium for the browser tests"; \
	    (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || \
	    echo "warning: could not install chromium; browser tests will be skipped"; }

## ruff (lint and format), import-linter (the layer contracts in pyproject.toml), mypy
lint: $(STAMP)
	$(VENV)/bin/ruff check eipsim tests benchmarks scripts
	$(VENV)/bin/ruff format --check eipsim tests benchmarks scripts
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy eipsim

format: $(STAMP)
	$(VENV)/bin/ruff format eipsim tests benchmarks scripts && $(VENV)/bin/ruff check --fix eipsim tests benchmarks scripts

## Re-take the README screenshot of the browser app (a comparison) in Debian's chromium
viz-shot: $(STAMP) browser
	EIPSIM_UPDATE_README_SHOT=1 $(PY) -m pytest -q tests/test_viz_browser.py -k compare

bench: $(STAMP)
	$(PY) benchmarks/bench_model.py
	$(PY) benchmarks/bench_against.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
