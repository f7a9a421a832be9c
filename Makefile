# dindweb: `make run` serves the dashboard, `make test` runs the whole suite.
# Both prepare everything first on a fresh Debian machine: virtualenv, Python and
# front-end packages, a Docker engine, the images, the database.

HOST ?= 127.0.0.1
PORT ?= 8000
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test images engine prepare clean browser services

run: prepare
	@$(PY) manage.py first_admin --url http://$(HOST):$(PORT)/
	$(PY) manage.py serve --host $(HOST) --port $(PORT)

test: prepare browser services
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Debian's redis-server and PostgreSQL for the several-process tests, which start their own
# servers on loopback (nothing is left running).
services:
	@bash scripts/ensure-services.sh

prepare: $(VENV)/.installed node_modules/.installed engine images
	@$(PY) manage.py migrate --noinput -v 0

engine:
	@bash scripts/ensure-engine.sh

# Benchmarks against bare docker on this machine (about 10 minutes): bench/results/latest.md.
.PHONY: bench
bench: prepare
	$(PY) -m bench $(BENCH_ARGS)

images: $(VENV)/.installed engine
	@$(PY) manage.py build_images

# Debian's chromium for the browser tests (Playwright's own browser download cannot work offline).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

$(VENV)/.installed: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -r requirements.txt
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	@touch $@

clean:
	rm -rf $(VENV) node_modules var
