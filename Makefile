# Controlbook developer commands. `make help` lists them.
# Everything runs inside .venv, created by scripts/bootstrap.sh with pinned versions.

CATALOG ?= controls
VENV := .venv/bin
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help setup build check test bench bench-small lint format schema docs lock wheel clean

help: ## List the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

setup: ## Install system packages and the pinned Python environment (.venv)
	@scripts/bootstrap.sh

build: setup ## Validate, evaluate and build the example catalog into site/ (CATALOG=controls)
	$(VENV)/controlbook validate $(CATALOG)
	$(VENV)/controlbook build $(CATALOG) --out site

test: ## Run the whole test suite (installs what it needs first)
	@scripts/bootstrap.sh --test
	$(VENV)/python -m pytest -n auto $(PYTEST_ARGS)

# Outside the repository: the generated catalogs are 100 MB and more.
BENCH_WORK ?= $(HOME)/.cache/controlbook-bench

bench: setup ## Benchmark at full size (1,000 controls, 5M entitlement rows; about 35 min on 2 cores)
	$(VENV)/python -m benchmarks.run --work $(BENCH_WORK)/full --json $(BENCH_WORK)/full/figures.json

bench-small: setup ## Benchmark at 100 controls (about 3 min), full build with narratives
	$(VENV)/python -m benchmarks.run --work $(BENCH_WORK)/small --controls 100 --people 2000 \
		--systems 20 --accounts 4000 --entitlement-rows 40000 --json $(BENCH_WORK)/small/figures.json

lint: setup ## ruff lint and format check
	$(VENV)/ruff check generator tests $(wildcard benchmarks)
	$(VENV)/ruff format --check generator tests $(wildcard benchmarks)

format: setup ## Format and fix what ruff can
	$(VENV)/ruff format generator tests $(wildcard benchmarks)
	$(VENV)/ruff check --fix generator tests $(wildcard benchmarks)

schema: setup ## Regenerate the JSON Schema beside both example catalogs
	$(VENV)/controlbook schema -o $(CATALOG)/controlbook.schema.json
	$(VENV)/controlbook schema -o examples/iga-catalog/controlbook.schema.json

lock: ## Re-pin requirements.lock and requirements-dev.lock for Python 3.11.2 to 3.13
	@scripts/lock.sh

wheel: ## Build the wheel and sdist into dist/ (templates and mkdocs.yml included)
	@scripts/bootstrap.sh --test
	$(VENV)/python -m hatchling build -d dist

clean: ## Remove build output and caches (keeps .venv)
	rm -rf site build .pytest_cache .ruff_cache

docs: setup ## Regenerate docs/catalog-reference.md and the README rule table from the code
	$(VENV)/python -m scripts.gen_docs
