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
# make regress / compare / calibrate: the quick set (steady, smallest sizes, CPU; the single-step and
# capability workloads, not the long epoch, convergence, GPT and data-parallel runs)
QUICK_ARGS ?= --device cpu --batch-sizes 64 --array-sizes 10000 --matrix-sizes 256 \
	-k "steady and not epoch and not convergence and not gpt and not data_parallel"
THRESHOLD ?= 10

.PHONY: venv data bench test report regress compare calibrate baseline baseline-full baseline-quick clean-venv

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

# Real training data, provided once per venv at set-up (never at test time): files already there,
# else Debian's dataset-fashion-mnist (as root), else torchvision's download, else one line saying
# so and the digits fallback (models/provide_data.py; docs/data.md). `make data` tries again.
DATA_STAMP := $(VENV)/.data-provided
$(DATA_STAMP): $(STAMP)
	$(PY) -m models.provide_data
	touch $(DATA_STAMP)

data: $(STAMP)
	$(PY) -m models.provide_data
	touch $(DATA_STAMP)

# report.py exits 1 on a regression against baselines/: shown by `make bench`, gated by `make regress`.
# A run that saved nothing (every case skipped or deselected) says so and reports nothing as new.
bench: $(STAMP) $(DATA_STAMP)
	@before=$$(ls -t .benchmarks/*/[0-9]*.json 2>/dev/null | head -n 1); \
	$(PYTEST) benchmarks --benchmark-autosave $(BENCH_ARGS) || exit $$?; \
	after=$$(ls -t .benchmarks/*/[0-9]*.json 2>/dev/null | head -n 1); \
	if [ -z "$$after" ] || [ "$$after" = "$$before" ]; then \
	  echo "make bench: this run saved no benchmark (every case skipped or deselected): no new report"; exit 1; fi; \
	$(PY) report.py "$$after" || [ $$? -eq 1 ]

test: $(STAMP) $(DATA_STAMP)
	$(PYTEST) tests
	$(PYTEST) benchmarks --benchmark-disable --device all -rs

# report.py exits 0 (no gated regression), 1 (a gated regression), 2 (bad input), 3 (internal error)
report: $(STAMP)
	$(PY) report.py

# A regression must show again in a second, confirming measurement of just the regressed benchmarks:
# one run cannot tell a real slow-down from a run-level shift of a shared machine. Exit 2 (bad input)
# and 3 (internal error) pass straight through, never re-measured. A baseline from a machine that does
# not measure the same (fingerprint or reference probes), or a busy machine, does not gate: report.py
# says why in its first line and exits 0. What to re-measure comes from report/verdict.json.
regress: $(STAMP)
	mkdir -p .regress
	$(PYTEST) benchmarks $(QUICK_ARGS) --benchmark-autosave --benchmark-json=.regress/run.json
	status=0; $(PY) report.py .regress/run.json --threshold $(THRESHOLD) || status=$$?; \
	[ $$status -eq 1 ] || exit $$status; \
	echo "Measuring the regressed benchmarks again to confirm:"; \
	$(PYTEST) $$($(PY) -c 'import json; print(" ".join(json.load(open("report/verdict.json"))["regressed"]))') \
	  $(QUICK_ARGS) --benchmark-json=.regress/confirm.json || exit 3; \
	$(PY) report.py .regress/run.json .regress/confirm.json --threshold $(THRESHOLD)

# Same-machine A/B: PAIRS runs of the quick set alternately in a worktree of BASE and in this tree,
# then report.py's gate with the head runs as current and the base runs as baseline (exit code: its).
BASE ?= $(shell git merge-base HEAD '@{upstream}' 2>/dev/null || git rev-parse HEAD~1)
PAIRS ?= 3
compare: $(STAMP)
	$(PY) -m reporting.ab --base $(BASE) --pairs $(PAIRS) --threshold $(THRESHOLD) -- $(QUICK_ARGS)

# CAL_RUNS A/A runs of the quick set on this machine -> baselines/<machine-id>/calibration-<hash>.json:
# per-benchmark thresholds no tighter than each benchmark's run-to-run spread here.
CAL_RUNS ?= 12
calibrate: $(STAMP)
	rm -rf .calibrate && mkdir -p .calibrate
	for i in $$(seq $(CAL_RUNS)); do \
	  $(PYTEST) benchmarks $(QUICK_ARGS) -q --benchmark-json=.calibrate/run-$$i.json || exit 3; \
	done
	$(PY) -m reporting.calibrate .calibrate/run-*.json --threshold $(THRESHOLD)

# BASELINE_RUNS new numbered runs under baselines/<machine>/ (pytest-benchmark never overwrites
# one) of the default set and of the quick set; their spread is the machine's run-to-run noise,
# which report.py allows for. report.py compares a run with the baselines of the same selection.
BASELINE_RUNS ?= 3
baseline: baseline-full baseline-quick
	@echo "New baseline runs saved under baselines/: check them with report.py, then commit them."

baseline-full: $(STAMP)
	for i in $$(seq $(BASELINE_RUNS)); do \
	  $(PYTEST) benchmarks --benchmark-storage=baselines --benchmark-save=baseline -q || exit 1; \
	done

baseline-quick: $(STAMP)
	for i in $$(seq $(BASELINE_RUNS)); do \
	  $(PYTEST) benchmarks $(QUICK_ARGS) --benchmark-storage=baselines --benchmark-save=quick -q || exit 1; \
	done

clean-venv:
	rm -rf $(VENV)
