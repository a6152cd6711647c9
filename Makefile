# Every target does the set-up it needs, so on a fresh machine `make reports` and `make test` work from nothing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
KERNEL := vngov-indices

.PHONY: setup browser lab data check fetch release reports nightly refresh-notebooks test lint bench bench-run bench-hangs clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (vngov-indices)"
	touch $(STAMP)

browser:
	command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

# --allow-root: JupyterLab refuses to start as root without it (containers, CI); harmless otherwise.
lab: data
	$(VENV)/bin/jupyter lab --allow-root --notebook-dir=notebooks notebooks/explore.ipynb

fetch: setup
	$(PY) -m analysis data fetch

data: setup
	$(PY) -m analysis data build

check: setup
	$(PY) -m analysis data check

release: data
	$(PY) -m analysis data release

reports: data
	$(PY) -m analysis run

nightly: data
	$(PY) -m analysis run --config runs/nightly.yaml

refresh-notebooks: data
	$(PY) -m analysis notebooks refresh

lint: setup
	$(PY) -m ruff check src tests scripts

test: data browser
	$(PY) -m ruff check src tests scripts
	$(PY) -m pytest

bench: data
	$(PY) scripts/bench_build.py

bench-run: data
	$(PY) scripts/bench_run.py

RUNS ?= 10
bench-hangs: data
	$(PY) scripts/bench_hangs.py --runs $(RUNS)

clean:
	rm -rf data/.builds
	find data/processed -mindepth 1 ! -name README.md -exec rm -rf {} +
