# Every target bootstraps .venv from the lock file; a fresh machine needs only python3.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: demo test lint typecheck unit bench hostile lock clean screenshots train topics

$(STAMP): requirements.lock pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/monitor demo

test: lint typecheck unit

unit: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check monitor storage tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

# The hostile suite with its summary table, and the slow parts (crash loop, client soak).
hostile: $(STAMP)
	$(BIN)/python -m tests.hostile --all

# The reader's pages photographed by headless chromium (Debian's chromium and chromium-driver).
screenshots: $(STAMP)
	$(BIN)/python -m tests.screenshots

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

# The topic model (monitor/matching/judge_weights.bin) from the real development set beside the checkout;
# `make topics` reports it by cross-validation (rules alone, model alone, combined).
DATA ?= ../shared/relevance-dev
train: $(STAMP)
	$(BIN)/python -m benchmarks.train_topics --data $(DATA)

topics: $(STAMP)
	$(BIN)/python -m benchmarks.topics --data $(DATA) --own

# Regenerate the lock after changing dependencies in pyproject.toml.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml requirements-build.in --extra test --extra dev --extra datasette --extra web --generate-hashes \
		--python-version 3.11 --python-platform x86_64-unknown-linux-gnu -o requirements.lock

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache
