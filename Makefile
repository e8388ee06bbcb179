# The CPT site and shop. `make help` lists the targets.
# `make run` and `make test` set up everything they need on a fresh machine.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
SITE_OUT := build/site
BUILD_FLAGS ?=  # e.g. make build BUILD_FLAGS=--timings: each stage's time at the end
INSTALLED := $(VENV)/.installed
DEBIAN_PACKAGES := chromium fonts-dejavu-core poppler-utils libcairo2

.DEFAULT_GOAL := help
.PHONY: help install run build test lint format bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

install: $(INSTALLED) node_modules/.installed ## create .venv, install the project and the Debian packages it needs
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

build: install ## build the static site into build/site/, with the issuer's DID document
	@# The signing key is configuration (OB_SIGNING_KEY or OB_SIGNING_KEY_FILE); without one,
	@# a development key is made under instance/. The site gets only the public DID document.
	$(BIN)/flask --app shop credentials dev-key
	$(BIN)/flask --app shop credentials did --out build/did.json
	$(BIN)/python -m sitegen build --out $(SITE_OUT) --did-document build/did.json $(BUILD_FLAGS)

run: build ## serve the site and the shop, with demo data, on http://$(HOST):$(PORT)/ until Ctrl-C
	$(BIN)/flask --app shop db upgrade
	SHOP_URL=http://$(HOST):$(PORT) $(BIN)/flask --app shop demo seed
	SHOP_URL=http://$(HOST):$(PORT) $(BIN)/python -m shop.devserver --host $(HOST) --port $(PORT) --search-dir $(SITE_OUT)/pagefind

test: install ## run every test (unit, integration, site, browser)
	$(BIN)/python -m pytest

lint: install ## ruff (lint and format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install ## time the site build against its floor, Hugo, Pelican and MkDocs; live reload; the documents; signing credentials; a 5,000-row bulk verification (docs/performance.md)
	@command -v hugo >/dev/null || { echo "installing Debian package: hugo"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hugo >/dev/null; }
	@# Pelican and MkDocs in a venv of their own, apart from the project's dependencies.
	@test -x build/bench/venv/bin/pelican -a -x build/bench/venv/bin/mkdocs || { \
		echo "creating build/bench/venv with pelican and mkdocs"; \
		$(PYTHON) -m venv build/bench/venv && \
		build/bench/venv/bin/python -m pip install --quiet --upgrade pip && \
		build/bench/venv/bin/python -m pip install --quiet pelican mkdocs markdown; }
	$(BIN)/python -m bench.documents --batch 1000 --json build/bench/documents.json
	$(BIN)/python -m bench.floor --pages 1000 5000 --runs 5
	$(BIN)/python -m bench.reload
	$(BIN)/python -m bench.site_build
	$(BIN)/python -m bench.openbadges
	$(BIN)/python -m bench.loadtest.orgverify

clean: ## remove build output and caches (keeps .venv)
	rm -rf build .pytest_cache .mypy_cache .ruff_cache

# Load and benchmark runs of the shop under gunicorn on 127.0.0.1 (bench/loadtest).
.PHONY: reliability shop-bench

reliability: install ## locust against gunicorn, SQLite and PostgreSQL: docs/reliability.md (~6 min)
	$(BIN)/python -m bench.loadtest reliability

shop-bench: install ## wrk: shop pages beside a bare Flask route: docs/shop-performance.md
	@command -v wrk >/dev/null 2>&1 || { echo "installing Debian package: wrk"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python -m bench.loadtest bench
