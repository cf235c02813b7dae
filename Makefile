# The Atlas's commands. `make run` and `make test` need nothing set up by hand.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PORT ?= 8000
BIND ?= 127.0.0.1
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.8
# Interpreters come from this machine (pyenv reads .python-version); never downloaded.
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON := $(PY)

.PHONY: help install run worker test lint typecheck check messages node vendor clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(PY):
	python3 -m venv $(VENV)

$(UV): | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --quiet
	@touch $@

install: $(VENV)/.synced ## Create .venv and install the locked dependencies

locale/fr/LC_MESSAGES/django.mo: locale/fr/LC_MESSAGES/django.po | $(VENV)/.synced
	$(PY) manage.py compilemessages --ignore=.venv -v0

messages: $(VENV)/.synced ## Refresh the translation catalogues
	$(PY) manage.py makemessages -l fr --ignore=.venv --ignore=static --ignore=node_modules -v0

run: install locale/fr/LC_MESSAGES/django.mo ## Migrate, seed the demo and serve on $(BIND):$(PORT)
	$(PY) manage.py migrate --no-input -v0
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver $(BIND):$(PORT)

worker: install ## Start a Celery worker (needs REDIS_URL)
	$(VENV)/bin/celery -A config worker -l info

# Node packages: the runtime files are vendored into static/vendor (committed), the test tools
# (axe-core, vnu-jar) are used from node_modules. --ignore-scripts: vnu-jar's install script
# would download a Java runtime, and the machine's Java is the one to use.
node_modules/.package-lock.json: package-lock.json package.json
	npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

node: node_modules/.package-lock.json ## Install the locked node packages

VENDOR := static/vendor

vendor: node_modules/.package-lock.json ## Copy Chart.js and Leaflet from node_modules into static/vendor
	rm -rf $(VENDOR)/chart.js $(VENDOR)/leaflet
	mkdir -p $(VENDOR)/chart.js $(VENDOR)/leaflet/images
	cp node_modules/chart.js/dist/chart.umd.min.js node_modules/chart.js/dist/chart.umd.min.js.map \
		node_modules/chart.js/LICENSE.md $(VENDOR)/chart.js/
	cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.js.map \
		node_modules/leaflet/dist/leaflet.css node_modules/leaflet/LICENSE $(VENDOR)/leaflet/
	cp node_modules/leaflet/dist/images/*.png $(VENDOR)/leaflet/images/

test: install locale/fr/LC_MESSAGES/django.mo node_modules/.package-lock.json ## Run the whole suite
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install ## ruff check and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install ## mypy with the Django and DRF plugins
	$(VENV)/bin/mypy .

check: lint typecheck ## Every static check CI runs
	$(PY) manage.py makemigrations --check --dry-run -v0

.PHONY: loadtest

# Its own PostgreSQL database (LOADTEST_DATABASE_URL), Redis, worker and SMTP sink; see
# bench/loadtest.py. LOADTEST_SECONDS shortens each level while trying it out.
loadtest: install ## gunicorn as in production under wrk, then again with Redis stopped midway
	@command -v wrk >/dev/null || { echo 'make loadtest needs wrk: apt-get install -y wrk' >&2; exit 2; }
	$(PY) -m bench.loadtest

# Datasette, one of the peers `make bench` measures against, lives in a virtualenv of its own
# so that none of its dependencies reach the Atlas's lock file.
DATASETTE_VENV := bench/.venv-datasette

$(DATASETTE_VENV)/bin/datasette: | $(UV)
	$(UV) venv --quiet --python $(PY) $(DATASETTE_VENV)
	$(UV) pip install --quiet --python $(DATASETTE_VENV)/bin/python "datasette==0.65.5" uvicorn gunicorn

.PHONY: bench

bench: install $(DATASETTE_VENV)/bin/datasette ## Measure the Atlas against its peers into BENCHMARKS.md
	$(PY) -m bench.run $(BENCH_ARGS)

clean: ## Remove the environment and local database
	rm -rf $(VENV) db.sqlite3 staticfiles node_modules

.PHONY: backup restore

backup: install ## Dump the PostgreSQL database (pg_dump -Fc) to FILE, or to a dated file
	$(PY) manage.py backup_database $(if $(FILE),--output "$(FILE)")

restore: install ## Restore FILE=archive into the (empty) PostgreSQL database, in one transaction
	@test -n "$(FILE)" || { echo 'Usage: make restore FILE=atlas.dump' >&2; exit 2; }
	$(PY) manage.py restore_database "$(FILE)"
