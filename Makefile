# The single source of commands: the README and CI call these targets, nothing else.
# `make run` sets up and starts the local stack; `make test` sets up and runs every check.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .stamps
WEIGHTS := stylemixer/data/weights.pt
SITE_VENDOR := static_site/vendor/.built
WEB_MODELS := static_site/models/manifest.json

export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
# torch's OpenMP workers sleep instead of spinning (see stylemixer/neural/runtime.py): faster on shared cores.
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: setup run test lint format unit e2e infra bench load reliability-doc synth thumbnails clean

setup: $(STAMPS)/venv $(WEIGHTS) $(WEB_MODELS) $(SITE_VENDOR)

$(STAMPS)/venv: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch is pinned to 2.13.0 (CPU). Elsewhere, add --extra-index-url https://download.pytorch.org/whl/cpu
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@mkdir -p $(STAMPS) && touch $@

$(WEIGHTS): $(STAMPS)/venv stylemixer/neural/weights.py
	$(BIN)/stylemixer weights build

# The page's in-browser preview: the same weights as ONNX files (float16) beside the page.
$(WEB_MODELS): $(WEIGHTS) stylemixer/neural/export.py
	$(BIN)/stylemixer weights web

$(SITE_VENDOR): static_site/package.json static_site/package-lock.json
	cd static_site && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build
	@touch $@

# Debian's Chromium for the browser tests (Playwright's own browser download cannot work offline).
$(STAMPS)/chromium:
	command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)
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

test: setup $(STAMPS)/chromium lint
	$(BIN)/pytest

# The unit and functional tests, and the examples in the package's docstrings.
unit: setup
	$(BIN)/pytest tests/unit tests/functional stylemixer functions

e2e: setup $(STAMPS)/chromium
	$(BIN)/pytest -m e2e tests/e2e

infra: setup
	$(BIN)/pytest tests/infra

bench: setup $(STAMPS)/chromium
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.full_res
	$(BIN)/python -m bench.cold_import
	$(BIN)/python -m bench.batch
	$(BIN)/python -m bench.preview

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
