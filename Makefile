# Two commands matter: `make run` (demo beacon at http://127.0.0.1:5050) and `make test`.
# `make check` (lint, types, import contracts, the full suite) is what CI runs (.ci/run); `make test-fast` is the
# day-to-day tier. VENV=... points at another virtual environment (tests/packaging reuses the current one).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP ?= $(VENV)/.installed-stamp

.PHONY: setup run demo test test-fast lint typecheck layering check bench bench-quick bench-smoke bench-throughput bench-aggregator bench-vcf bench-sizes compose-test soak fuzz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,fast]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/beacon demo

run: demo
	$(BIN)/beacon serve

# The full suite, the gate. Tests that need the large public data read it from BEACON_TEST_DATA (default
# ../shared/data) and skip, saying so, when it is absent.
test: $(STAMP)
	$(BIN)/python -m pytest

# Everything but the tests marked slow (tests/conftest.py SLOW says why each is): under 3 minutes on 2 cores.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check beacon ingest tests setup.py
	$(BIN)/ruff format --check beacon ingest tests setup.py

typecheck: $(STAMP)
	$(BIN)/mypy

layering: $(STAMP)
	$(BIN)/lint-imports

check: lint typecheck layering test

# Mixed queries at concurrency 64 for SOAK_SECONDS (default 600) against a served CINECA store.
SOAK_SECONDS ?= 600
soak: $(STAMP)
	$(BIN)/python bench/soak.py --seconds $(SOAK_SECONDS) --concurrency 64

# Fuzzing, bounded: schemathesis from the served OpenAPI document (FUZZ_EXAMPLES per operation, zero 5xx and
# conformance to the document; bench/results/schema_fuzz.json), then the hostile-input properties (2,500 requests
# per property; bench/results/fuzz.json), then the loaders against broken real files (60 cases per input, 300 in
# all; make test runs 30). schemathesis gets a venv of its own: it pins another jsonschema-rs.
FUZZ_EXAMPLES ?= 200
FUZZ_VENV := var/fuzz-venv
$(FUZZ_VENV)/bin/st:
	$(PYTHON) -m venv $(FUZZ_VENV)
	$(FUZZ_VENV)/bin/pip install --quiet 'schemathesis>=4.3'

fuzz: $(STAMP) $(FUZZ_VENV)/bin/st
	mkdir -p bench/results
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python bench/schema_fuzz.py --st $(FUZZ_VENV)/bin/st --out bench/results/schema_fuzz.json
	BEACON_FUZZ_EXAMPLES=2500 BEACON_FUZZ_REPORT=bench/results/fuzz.json $(BIN)/python -m pytest -q tests/api/test_fuzz.py
	BEACON_FUZZ_EXAMPLES=60 $(BIN)/python -m pytest -q tests/ingest/test_loader_fuzz.py
	cat bench/results/fuzz.json

bench-sizes: $(STAMP)
	$(BIN)/python bench/store_sizes.py

# The backend suite (store and API tests, MongoDB side) against the MongoDB of deploy/compose.yaml.
COMPOSE := docker compose -f deploy/compose.yaml
compose-test: $(STAMP)
	$(COMPOSE) up --detach --wait mongo
	BEACON_TEST_MONGO_URI="mongodb://root:$${BEACON_MONGO_ROOT_PASSWORD:-beacon-root-demo}@127.0.0.1:27017/?directConnection=true&authSource=admin" \
	  $(BIN)/python -m pytest -k mongo tests/store tests/api; \
	status=$$?; $(COMPOSE) stop mongo; exit $$status

clean:
	rm -rf var .venv

# Every hot path as a ratio to its ceiling, measured side by side in one run (docs/benchmarks.md).
# Stores are built through the real ingest once per size and cached under var/bench/ (10 M variants: ~20 min).
BENCH_STAMP := $(VENV)/.bench-stamp
BENCH_VARIANTS ?= 10000000
BENCH_INDIVIDUALS ?= 100000
$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[test,fast,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	BENCH_VARIANTS=$(BENCH_VARIANTS) BENCH_INDIVIDUALS=$(BENCH_INDIVIDUALS) $(BIN)/python bench/suite.py

# The same suite on 1 M variants and 20 k individuals for day-to-day use: under 5 minutes once the
# stores are cached (the first run builds them, about 2 minutes more); results in bench/results/quick/.
bench-quick: $(BENCH_STAMP)
	BENCH_VARIANTS=1000000 BENCH_INDIVIDUALS=20000 BENCH_SECONDS=2 BENCH_INGEST_VARIANTS=100000 \
	BENCH_GT_VARIANTS=1000 BENCH_AGGREGATOR_ROUNDS=100 BENCH_VCF_TARGETS=0 BENCH_RESULTS=bench/results/quick $(BIN)/python bench/suite.py

# The same suite at toy scale in about 30 s (what tests/test_bench_smoke.py runs); numbers mean nothing.
bench-smoke: $(BENCH_STAMP)
	BENCH_VARIANTS=3000 BENCH_INDIVIDUALS=300 BENCH_SECONDS=0.3 BENCH_CONCURRENCY=1,4 BENCH_INGEST_VARIANTS=2000 \
	BENCH_GT_VARIANTS=20 BENCH_AGGREGATOR_ROUNDS=10 BENCH_RESULTS=var/bench/smoke $(BIN)/python bench/suite.py

# Query types on the CINECA store as ratios to /api/info (the older, narrower throughput check).
bench-throughput: $(STAMP)
	$(BIN)/python bench/throughput.py

# Aggregator overhead over the slowest of 20 members (target <= 5 ms); also part of `make bench`.
bench-aggregator: $(STAMP)
	$(BIN)/python bench/aggregator_overhead.py

bench-vcf: $(STAMP)
	$(BIN)/python bench/vcf_ingest.py
	$(BIN)/python bench/carrier_sets.py
	$(BIN)/python bench/carrier_ceiling.py
