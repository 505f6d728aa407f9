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

.PHONY: install postgres browser demo test lint format bench audio clean
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)
	@mkdir -p "$(PREFECT_HOME)"  # Prefect creates only the last folder of its home

demo: install  ## the nightly flow on examples/ -> scorecards under var/demo/scorecards
	$(BIN)/qa nightly --date 2026-11-20 --config examples/qa.toml
	$(BIN)/qa surveys import examples/surveys.csv --config examples/qa.toml  # 48299 is rejected: no such chat
	$(BIN)/qa scorecards --config examples/qa.toml  # again, with the survey KPIs
	$(BIN)/qa users demo --config examples/qa.toml
	@echo "web app: $(BIN)/qa serve --config examples/qa.toml  (then open http://127.0.0.1:8000/)"

# The tests start their own PostgreSQL server (tests/pg_server.py); install it if missing.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { \
	  echo "installing PostgreSQL for the tests (apt-get)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql >/dev/null; }

# The web app's browser tests drive the system's Chromium through Playwright; install it if missing.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  echo "installing Chromium for the browser tests (apt-get)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

test: install postgres browser
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports  # the architecture contracts in pyproject.toml: no cycles, layers
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The search benchmark's recorded rows use 1,000,000 interactions (about 40 minutes on
# 2 cores): `make bench SEARCH_N=1000000`.
SEARCH_N ?= 100000
bench: install postgres
	$(BIN)/python benchmarks/bench_scoring.py
	$(BIN)/python benchmarks/bench_transcribe.py
	$(BIN)/python benchmarks/bench_search.py --n $(SEARCH_N)
	$(BIN)/python benchmarks/bench_web.py --n $(SEARCH_N)
	$(BIN)/python benchmarks/bench_threading.py
	$(BIN)/python benchmarks/bench_prefect.py

audio:  ## regenerate the demo recordings (needs espeak-ng, sox, libsox-fmt-mp3)
	$(PYTHON) examples/make_audio.py

clean:
	rm -rf var .pytest_cache
