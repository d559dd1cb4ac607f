# The two commands of the quick start: `make demo` and `make test`. Both create .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test soak lint format bench install clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "marketrec needs Python 3.11 or newer (try: make PYTHON=python3.12)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

# `make demo EXCHANGE=kraken` records the emulator's Kraken face instead of its Mt.Gox one.
EXCHANGE ?= mtgox

demo: $(STAMP)
	$(BIN)/marketrec demo --exchange $(EXCHANGE)

# worksteal: most tests wait on running collectors rather than compute, and the long ones otherwise end up
# queued behind each other on one worker (8 min against 6 for the same tests here).
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist worksteal

# The long reliability runs (100 crash trials, a 10-minute fault soak, 5-minute runs of 2 and 4 collectors on one
# key): the figures are printed at the end and written to .bench/soak.json.
SOAK_TESTS := tests/integration/test_crashes_everywhere.py tests/integration/test_fault_soak.py \
	tests/integration/test_concurrent_collectors.py

soak: $(STAMP)
	MARKETREC_SOAK=1 MARKETREC_FIGURES=.bench/soak.json $(BIN)/python -m pytest -n 2 -p no:cacheprovider $(SOAK_TESTS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

BENCHMARKS := bench/emulator_throughput.py bench/rawstore_throughput.py bench/collector_cpu.py bench/pipeline_build.py

bench: $(STAMP)
	@mkdir -p .bench; set -e; for b in $(BENCHMARKS); do echo "== $$b"; $(BIN)/python $$b --json .bench/$$(basename $$b .py).json; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
