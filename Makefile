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
# make regress: the quick set (steady, smallest sizes, CPU) gated against baselines/ by report.py
QUICK_ARGS ?= --device cpu --batch-sizes 64 --array-sizes 10000 --matrix-sizes 256 -k steady
THRESHOLD ?= 10

.PHONY: venv bench test report regress baseline clean-venv

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

# report.py exits 1 on a regression against baselines/: shown by `make bench`, gated by `make regress`
bench: $(STAMP)
	$(PYTEST) benchmarks --benchmark-autosave $(BENCH_ARGS)
	$(PY) report.py || [ $$? -eq 1 ]

test: $(STAMP)
	$(PYTEST) tests
	$(PYTEST) benchmarks --benchmark-disable --device all -rs

report: $(STAMP)
	$(PY) report.py

regress: $(STAMP)
	$(PYTEST) benchmarks $(QUICK_ARGS) --benchmark-autosave
	$(PY) report.py --threshold $(THRESHOLD)

# a new numbered run under baselines/<machine>/ (pytest-benchmark never overwrites one); commit it
baseline: $(STAMP)
	$(PYTEST) benchmarks --benchmark-storage=baselines --benchmark-save=baseline $(BENCH_ARGS)
	@echo "New baseline saved under baselines/: check it with report.py, then commit it."

clean-venv:
	rm -rf $(VENV)
