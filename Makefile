# Every target does the set-up it needs, so on a fresh machine `make reports` and `make test` work from nothing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.installed
KERNEL := vngov-indices
# The environment: every package pinned with its hashes (`make lock` regenerates it from pyproject.toml).
LOCK := requirements.lock
# The installer, pinned apart: it is not a dependency and must be installed before LOCK is read.
UV_VERSION := 0.13.9
UV_LOCK := requirements-uv.lock
# `make setup INSTALLER=pip` takes the fallback on purpose: the same lock and hashes, installed by pip.
INSTALLER ?= uv
COMPILE = $(UV) pip compile --quiet --universal --fork-strategy fewest --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock"

.PHONY: setup lock lock-upgrade browser lab data check fetch release reports nightly refresh-notebooks card-pdf test lint bench bench-run bench-hangs bench-setup clean

setup: $(STAMP)

# uv goes into .venv with the machine's pip (pip >= 22.3 installs into another interpreter with --python, which
# spares creating pip inside .venv); without such a pip, with .venv's own pip from ensurepip.
$(UV): $(UV_LOCK)
	test -x $(PY) || $(PYTHON) -m venv --without-pip $(VENV)
	$(PYTHON) -m pip --python $(PY) install --quiet --no-deps --require-hashes -r $(UV_LOCK) 2>/dev/null \
	  || { { $(PY) -m pip --version >/dev/null 2>&1 || $(PY) -m ensurepip --default-pip >/dev/null; } \
	       && $(PY) -m pip install --quiet --no-deps --require-hashes -r $(UV_LOCK); }
	touch $(UV)

# Exactly the lock (uv pip sync also removes what the lock does not list), then the project itself, editable.
# Bytecode is compiled once here, as pip does (uv does not by default; package tests are skipped): otherwise
# every kernel compiles what it imports again whenever PYTHONDONTWRITEBYTECODE is set.
$(STAMP): pyproject.toml $(LOCK) $(UV_LOCK)
	test -x $(PY) || $(PYTHON) -m venv --without-pip $(VENV)
	if [ "$(INSTALLER)" = uv ] && $(MAKE) -s $(UV); then \
	  $(UV) pip sync --quiet --python $(PY) --require-hashes $(LOCK) \
	  && $(UV) pip install --quiet --python $(PY) --no-deps -e . \
	  && { $(PY) -m compileall -q -j 0 -x '/tests?/' $(VENV)/lib >/dev/null || echo "setup: some files did not compile (they run from source)"; } ; \
	else \
	  echo "setup: installing $(LOCK) with pip (no uv), into a cleared $(VENV)" \
	  && $(PYTHON) -m venv --clear $(VENV) \
	  && $(PY) -m pip install --quiet --no-deps --require-hashes -r $(LOCK) \
	  && $(PY) -m pip install --quiet --no-deps -e . ; \
	fi
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (vngov-indices)"
	touch $(STAMP)

# Deliberate updates: `make lock` after editing pyproject.toml keeps every other pin; `make lock-upgrade` takes
# the newest versions pyproject.toml allows. Both regenerate environment.yml; commit the three files together.
lock: $(UV)
	$(COMPILE) $(LOCK_FLAGS) pyproject.toml --extra dev -o $(LOCK)
	echo "uv==$(UV_VERSION)" | $(COMPILE) - -o $(UV_LOCK)
	$(PYTHON) scripts/make_environment_yml.py

lock-upgrade:
	$(MAKE) lock LOCK_FLAGS=--upgrade

# Chromium for the browser tests. A system Chromium (`chromium` on PATH) is used as it is and nothing is installed.
# Without one, Playwright's own Chromium is downloaded into the user's cache (~/.cache/ms-playwright), no root needed;
# the system libraries it needs are installed (`playwright install-deps`, apt) only when it cannot start and only as
# root; otherwise the target says what to install and fails.
CHROMIUM_STARTS = $(PY) -c "from playwright.sync_api import sync_playwright as s; p = s().start(); p.chromium.launch().close(); p.stop()"
browser: setup
	@if command -v chromium >/dev/null 2>&1; then \
	  echo "browser: system Chromium $$(command -v chromium)"; \
	elif ! $(PY) -m playwright install chromium; then \
	  echo "browser: no chromium on PATH and Playwright could not download its Chromium (offline?): install your system's chromium package" >&2; exit 1; \
	elif $(CHROMIUM_STARTS) 2>/dev/null; then \
	  echo "browser: Playwright's Chromium (no system chromium on PATH)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  $(PY) -m playwright install-deps chromium && $(CHROMIUM_STARTS) && echo "browser: Playwright's Chromium, with its system libraries"; \
	else \
	  echo "browser: Playwright's Chromium is installed but cannot start: it needs system libraries. As root run" >&2; \
	  echo "  $(PY) -m playwright install-deps chromium   (or install your system's chromium package)" >&2; exit 1; \
	fi

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

# One Word card rendered to PDF by LibreOffice, page 1 as PNG (reports/cards/Binh-Duong-PAPI-2020-vi.*), to look
# at the layout of Decree 30/2020/NĐ-CP. Needs LibreOffice Writer, poppler-utils and fonts-liberation2 (Debian),
# which `make test` does not; CARD_ARGS passes other options (e.g. CARD_ARGS="--language en").
card-pdf: data
	$(PY) scripts/render_card_pdf.py $(CARD_ARGS)

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

bench-setup:
	$(PYTHON) scripts/bench_setup.py --ref main --ref HEAD

clean:
	rm -rf data/.builds
	find data/processed -mindepth 1 ! -name README.md -exec rm -rf {} +
