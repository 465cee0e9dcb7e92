# Brygga: every target bootstraps .venv when it is missing, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EARK_VENV := .venv-eark

.PHONY: demo test lint interop bench faults docs clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check uv
	@$(VENV)/bin/uv pip install --quiet --python $(PY) -e '.[airflow,dev]'
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

# The reference validator pins lxml 5.1.0, so it lives in a venv of its own.
$(EARK_VENV)/.installed: $(STAMP)
	@test -x $(EARK_VENV)/bin/python || $(PYTHON) -m venv $(EARK_VENV)
	@$(VENV)/bin/uv pip install --quiet --python $(EARK_VENV)/bin/python 'eark-validator==1.1.3'
	@touch $@

interop: $(STAMP) $(EARK_VENV)/.installed
	@BRYGGA_EARK_PYTHON=$(EARK_VENV)/bin/python $(PY) -m pytest -q -m interop tests/interop tests/conformance

# Two benchmarks, one report: the core path's speed, then memory against attachment size.
bench: $(STAMP)
	@mkdir -p var
	@$(PY) bench/core_path.py --write var/bench-core-path.md
	@$(PY) bench/memory.py --write var/bench-memory.md
	@cat var/bench-core-path.md var/bench-memory.md > docs/performance.md

# Fault injection: real simulators with fault plans, real child processes killed with SIGKILL, SQLite and
# PostgreSQL (when one answers). Prints the table and writes it into docs/reliability.md.
faults: $(STAMP)
	@$(PY) bench/faults.py --write docs/reliability.md

# The schema reference pages for vendors: open var/docs/index.html in a browser.
docs: $(STAMP)
	@$(VENV)/bin/brygga docs --out var/docs

clean:
	rm -rf $(VENV) $(EARK_VENV) var
