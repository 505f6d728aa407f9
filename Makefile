# One entry point for every habit: make demo, make test, make lint, make bench.
# Each target creates .venv and installs the project first if needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Offline machines: Prefect must not try to send analytics; keep its state in the repo.
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_HOME ?= $(CURDIR)/var/prefect
# The first start of Prefect's temporary server migrates its database: on 2 cores that
# can take longer than the 20 s default.
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 120

.PHONY: install demo test lint format bench audio clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)
	@mkdir -p "$(PREFECT_HOME)"  # Prefect creates only the last folder of its home

demo: install  ## the nightly flow on examples/ -> scorecards under var/demo/scorecards
	$(BIN)/qa nightly --date 2026-11-20 --config examples/qa.toml

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	@ls benchmarks/*.py >/dev/null 2>&1 && for b in benchmarks/bench_*.py; do $(BIN)/python $$b; done || echo "no benchmarks yet"

audio:  ## regenerate the demo recordings (needs espeak-ng, sox, libsox-fmt-mp3)
	$(PYTHON) examples/make_audio.py

clean:
	rm -rf var .pytest_cache
