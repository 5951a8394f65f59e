# The single source of commands: the README and CI call these targets, nothing else.
# `make run` sets up and starts the local stack; `make test` sets up and runs every check.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .stamps
WEIGHTS := stylemixer/data/weights.pt
SITE_VENDOR := static_site/vendor/.built
DEV_LOCK := requirements/dev-requirements.txt
TORCH_LOCK := -r requirements/torch-requirements.txt
LOCK := $(wildcard requirements/*-requirements.txt)
TORCH_INDEX := https://download.pytorch.org/whl/cpu
PIP := $(BIN)/python -m pip install --quiet --require-hashes
WEB_MODELS := static_site/models/manifest.json

export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
# torch's OpenMP workers sleep instead of spinning (see stylemixer/neural/runtime.py): faster on shared cores.
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: setup run test lint format unit e2e infra bench load reliability-doc synth thumbnails lock upgrade clean

setup: $(STAMPS)/venv $(WEIGHTS) $(WEB_MODELS) $(SITE_VENDOR)

# Every package from the lock, by hash (requirements/, made by `make lock`; see scripts/lock.py).
# torch first and alone: the CPU build, from this machine's own indexes or else from PyTorch's CPU
# index (for torch only: PyPI's Linux torch is the CUDA build, several GB). Then the rest of the
# lock (torch already satisfied), then the project itself, without resolving anything again.
$(STAMPS)/venv: pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) --no-deps $(TORCH_LOCK) 2>/dev/null || $(PIP) --no-deps --index-url $(TORCH_INDEX) $(TORCH_LOCK)
	$(PIP) -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@mkdir -p $(STAMPS) && touch $@

# Re-resolve the lock within pyproject.toml's ranges, keeping every pin they still allow (after a
# change to a range). `make upgrade` moves to the newest versions, tested first.
lock: $(STAMPS)/venv
	$(BIN)/python scripts/lock.py

# The newest versions the ranges allow, adopted only if `make test` passes with them in a scratch
# checkout (else the failing tests are named and the lock is kept). Run it monthly, and before
# changing what a dependency does for us.
upgrade: $(STAMPS)/venv
	$(BIN)/python scripts/upgrade_lock.py

$(WEIGHTS): $(STAMPS)/venv stylemixer/neural/weights.py
	$(BIN)/stylemixer weights build

# The page's in-browser preview: the same weights as ONNX files (float16) beside the page.
$(WEB_MODELS): $(WEIGHTS) stylemixer/neural/export.py
	$(BIN)/stylemixer weights web

$(SITE_VENDOR): static_site/package.json static_site/package-lock.json
	cd static_site && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build
	@touch $@

# Debian's Chromium for the browser tests (Playwright's own browser download cannot work offline),
# and curl and jq for docs/api.md's walkthrough, which a test runs as written.
APT_TOOLS := chromium curl jq
$(STAMPS)/apt:
	for tool in $(APT_TOOLS); do command -v $$tool >/dev/null || missing=1; done; \
	[ -z "$$missing" ] || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_TOOLS))
	@mkdir -p $(STAMPS) && touch $@

run: setup
	$(BIN)/stylemixer serve

# The page's scripts too: ESLint comes with the site's npm packages (dev dependencies, never served).
lint: $(STAMPS)/venv $(SITE_VENDOR)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd static_site && npm run --silent lint

format: $(STAMPS)/venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: setup $(STAMPS)/apt lint
	$(BIN)/pytest

# The unit and functional tests, and the examples in the package's docstrings.
unit: setup
	$(BIN)/pytest tests/unit tests/functional stylemixer functions

e2e: setup $(STAMPS)/apt
	$(BIN)/pytest -m e2e tests/e2e

infra: setup
	$(BIN)/pytest tests/infra

bench: setup $(STAMPS)/apt
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.full_res
	$(BIN)/python -m bench.cold_import
	$(BIN)/python -m bench.batch
	$(BIN)/python -m bench.preview
	$(BIN)/python -m bench.clips
	$(BIN)/python -m bench.camera

# A bounded load run against the local stack on loopback (100 jobs, 10 clients); writes bench/load_results.json.
# Then a flood from one client while five others paint, and 50 pollers; writes bench/flood_results.json.
load: setup
	$(BIN)/python -m bench.load
	$(BIN)/python -m bench.flood

# Regenerates the tables of docs/reliability.md from the bad-input catalogue and the last load run.
reliability-doc: setup
	$(BIN)/python -m tests.support.reliability_doc

synth: setup
	npx --yes aws-cdk@2 synth

thumbnails: setup
	$(BIN)/python scripts/render_thumbnails.py

clean:
	rm -rf $(STAMPS) $(VENV) stylemixer/data static_site/models static_site/vendor static_site/node_modules cdk.out artifacts
