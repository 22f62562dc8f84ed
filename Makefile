# gpumarket — two commands: `make demo` (the demo scenario on a local anvil) and `make test`.
# Everything is installed inside the checkout: .tools (uv), .venv (pinned Python stack from
# uv.lock), node_modules (solc-js, anvil, cast, OpenZeppelin from package-lock.json).
SHELL := /bin/bash
PY311 ?= $(shell command -v python3.11 || command -v python3)
ROOT := $(CURDIR)
ANVIL_BIN := $(ROOT)/node_modules/@foundry-rs/anvil-linux-amd64/bin
CAST_BIN := $(ROOT)/node_modules/@foundry-rs/cast-linux-amd64/bin
export SOLCX_BINARY_PATH := $(ROOT)/tools/solc/bin
export APE_DATA_FOLDER := $(ROOT)/.ape
export PATH := $(ROOT)/.venv/bin:$(ANVIL_BIN):$(CAST_BIN):$(PATH)
export UV_PYTHON_DOWNLOADS := never
export PYTHONDONTWRITEBYTECODE := 1
UV := $(ROOT)/.tools/bin/uv
APE := $(ROOT)/.venv/bin/ape
PYTEST_ARGS ?=
CHART_JS := src/gpumarket/web_static/vendor/chart.umd.min.js

.PHONY: setup demo test compile clean invariants invariants-forge bench-invariants mutants node bench bench-cli audit mutation browser screenshot

setup: .venv/.synced node_modules/.installed .build/.compiled $(CHART_JS)

$(UV):
	$(PY311) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==0.9.30

# --compile-bytecode: PYTHONDONTWRITEBYTECODE is set, so without it every process (each gpumarket
# command, each test worker) would compile ape's 2,000 modules from source again (≈ 7 s).
.venv/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --compile-bytecode --python $(PY311) --quiet
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# `gpumarket web` serves Chart.js from the package itself (nothing from a CDN): copied from node_modules.
$(CHART_JS): node_modules/.installed
	mkdir -p $(@D)
	cp node_modules/chart.js/dist/chart.umd.min.js $@

# The browser test (tests/web) drives Debian's headless Chromium with selenium: installed here when it is
# missing and we are root (CI runs `make test` on a fresh machine as root).
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium and chromium-driver for the browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else \
		echo "The browser test needs Debian's headless Chromium: run 'apt-get install chromium chromium-driver' as root, then make test again." >&2; \
		exit 1; \
	fi

.build/.compiled: .venv/.synced node_modules/.installed ape-config.yaml $(shell find contracts -name '*.sol' -not -path '*/.cache/*') tools/solc/solc.js
	$(APE) compile --force
	touch $@

compile: .build/.compiled

demo: setup
	$(APE) run demo --network ethereum:local:foundry

# A local anvil at 127.0.0.1:8545 for the gpumarket CLI (its default --network, ethereum:local:node).
node: setup
	anvil --port 8545

# Receipt gasUsed of every core operation, on a fresh market and on markets that already hold 1, 100
# and 10,000 providers, offers and rentals: writes benchmarks/gas.md and benchmarks/gas.json (≈ 4 min).
BENCH_SIZES ?= 1,100,10000
bench: setup
	$(APE) run bench --network ethereum:local:foundry --sizes "$(BENCH_SIZES)"

# Wall time of gpumarket commands as processes on a fresh anvil (reads: info, offer list at 100 offers, offer
# show, rental show, provider status; writes: offer create, rental rent, activate, claim, stop), each beside the
# same call through cast, median of BENCH_CLI_RUNS runs: writes benchmarks/cli.md and benchmarks/cli.json (≈ 2 min).
BENCH_CLI_RUNS ?= 5
bench-cli: setup
	$(ROOT)/.venv/bin/python tools/bench_cli.py --runs $(BENCH_CLI_RUNS)

# Both cores (pytest-xdist; each worker runs its own anvil). PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= 2
test: setup audit browser
	$(ROOT)/.venv/bin/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# Security review (SECURITY.md): the contracts compile without a warning and Slither reports nothing
# untriaged (triage: security/audit.toml and in-place `slither-disable-next-line` reasons). Re-runs
# only when a contract, the triage or the tool changes.
audit: setup .build/.audited

.build/.audited: .venv/.synced node_modules/.installed ape-config.yaml security/audit.toml tools/audit.py tools/solc_build.py tools/solc/solc.js $(shell find contracts -name '*.sol' -not -path '*/.cache/*')
	$(ROOT)/.venv/bin/python tools/audit.py
	touch $@

# The auditors' deep run of the settlement-invariant machine (not part of `make test`): ≥ 1,000,000
# stateful steps on both cores, then a report (steps per rule, elapsed, seeds, a failure's replay).
INVARIANT_STEPS ?= 1000000
invariants: setup
	$(ROOT)/.venv/bin/python tools/invariants_report.py --steps $(INVARIANT_STEPS)

# The Foundry invariant suite (tests/forge): forge from npm, offline, through tools/solc's wrapper, on the
# bytecode of ape's build (GPUMARKET_BUILD, default .build/__local__.json). FORGE_RUNS runs x FORGE_DEPTH
# calls; prints calls, calls/s and the effective calls per handler, writes .forge/invariants.json.
FORGE_RUNS ?= 128
FORGE_DEPTH ?= 500
FORGE_SEED ?= 1
invariants-forge: setup
	$(ROOT)/.venv/bin/python tools/forge_invariants.py --runs $(FORGE_RUNS) --depth $(FORGE_DEPTH) --seed $(FORGE_SEED)

# Both engines measured in one session: benchmarks/invariants.md (a 1,000,000-step Python run with its
# coverage tables, a forge campaign, and the mutants' time to catch from the last `make mutants`).
bench-invariants: setup
	$(ROOT)/.venv/bin/python tools/bench_invariants.py --steps $(INVARIANT_STEPS) --forge-runs $(FORGE_RUNS) --forge-depth $(FORGE_DEPTH)

# Seeded bugs in a copy of the contracts, each run against the machine; all must be caught.
mutants: setup
	$(ROOT)/.venv/bin/python tools/mutants.py

# Mutation testing (not part of `make test`): Gambit mutants of ComputeMarket, ProviderRegistry and
# RentalMath, a seeded sample, killed by the fast pyrevm tests and the invariant machine; report in
# security/mutation.md. MUTATION_ARGS="--sample 0,0,0" for every mutant (hours), "--resume" to go on.
MUTATION_ARGS ?=
mutation: setup
	nice $(ROOT)/.venv/bin/python tools/mutation.py $(MUTATION_ARGS)

# docs/market-page.png: the market page (gpumarket web) over a small demo market, in headless Chromium.
screenshot: setup browser
	$(APE) run screenshot --network ethereum:local:foundry

clean:
	rm -rf .venv .tools .build .ape node_modules contracts/.cache
