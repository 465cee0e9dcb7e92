# Brygga: every target bootstraps .venv when it is missing, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EARK_VENV := .venv-eark

.PHONY: demo test test-scale lint interop bench faults docs clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check uv
	@$(VENV)/bin/uv pip install --quiet --python $(PY) -e '.[airflow,dev,scale-out]'
	@touch $(STAMP)

demo: $(STAMP)
	@$(VENV)/bin/brygga demo

test: $(STAMP)
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/brygga lint
	@$(PY) -m pytest -q

lint: $(STAMP)
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/brygga lint

# The scale-out path for real (tests/scale, scale/cluster.py): scheduler, dag-processor, api-server, triggerer and two
# Celery workers on the local PostgreSQL and RabbitMQ; 1,000 submissions, then 500 with one worker killed (SIGKILL).
# Skips, saying why, when PostgreSQL or RabbitMQ does not answer. About 10 minutes on 2 cores.
test-scale: $(STAMP)
	@BRYGGA_SCALE=1 $(PY) -m pytest -q -s tests/scale

# The reference validator pins lxml 5.1.0, so it lives in a venv of its own.
$(EARK_VENV)/.installed: $(STAMP)
	@test -x $(EARK_VENV)/bin/python || $(PYTHON) -m venv $(EARK_VENV)
	@$(VENV)/bin/uv pip install --quiet --python $(EARK_VENV)/bin/python 'eark-validator==1.1.3'
	@touch $@

interop: $(STAMP) $(EARK_VENV)/.installed
	@BRYGGA_EARK_PYTHON=$(EARK_VENV)/bin/python $(PY) -m pytest -q -m interop tests/interop tests/conformance

# The benchmarks, one page: the core path, the end-to-end batch (10,000 submissions through the real DAG, with its
# ledger share and memory), drop-to-done latency on a live Airflow, the Celery cluster with one worker and with two,
# the archive step, memory against attachment size. bench/report.py puts every figure with a target first.
BENCH_PARTS := core-path e2e-batch latency scale-out archive memory
bench: $(STAMP)
	@mkdir -p var
	@$(PY) bench/core_path.py --write var/bench-core-path.md
	@$(PY) bench/e2e_batch.py --submissions 10000 --baseline-submissions 2000 --profile --write var/bench-e2e-batch.md
	@$(PY) bench/latency.py --write var/bench-latency.md
	@$(PY) bench/scale_out.py --write var/bench-scale-out.md
	@$(PY) bench/archive_step.py --write var/bench-archive.md
	@$(PY) bench/memory.py --write var/bench-memory.md
	@$(PY) bench/report.py --out docs/performance.md $(BENCH_PARTS:%=var/bench-%.md)

# Fault injection: real simulators with fault plans, real child processes killed with SIGKILL, SQLite and
# PostgreSQL (when one answers). Prints the table and writes it into docs/reliability.md.
faults: $(STAMP)
	@$(PY) bench/faults.py --write docs/reliability.md

# The schema reference pages for vendors: open var/docs/index.html in a browser.
docs: $(STAMP)
	@$(VENV)/bin/brygga docs --out var/docs

clean:
	rm -rf $(VENV) $(EARK_VENV) var
