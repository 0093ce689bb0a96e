# make bench: default benchmarks (autosaved under .benchmarks/) then the report in report/.
# make test:  unit tests, then every benchmark executed once (--benchmark-disable).
# Both create .venv from requirements.txt when it is missing or requirements.txt changed.
# pytest's exit 5 (no test collected) is a failure here like any other non-zero exit.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST := $(PY) -m pytest
BENCH_ARGS ?=

.PHONY: bench test report regress baseline clean-venv

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

bench: $(STAMP)
	$(PYTEST) benchmarks --benchmark-autosave $(BENCH_ARGS)
	$(PY) report.py

test: $(STAMP)
	$(PYTEST) tests
	$(PYTEST) benchmarks --benchmark-disable --device all -rs

report: $(STAMP)
	$(PY) report.py

clean-venv:
	rm -rf $(VENV)
