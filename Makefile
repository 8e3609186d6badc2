# Two entry points that work on a fresh machine (see README): `make run` and `make test`.
# Everything installs into ./.venv with Python 3.11; nothing is installed system-wide except
# Debian packages for the tests, and only as root: shellcheck and ruby (cluster scripts, Vagrantfile),
# chromium with a Korean font and nodejs (the web app's browser and unit tests).
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup run stop test bench model render clean

$(PY):
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found); set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml requirements.lock
	$(PY) -m pip install --quiet -c requirements.lock -e '.[dev]'
	$(PY) -m pip check
	touch $(STAMP)

setup: $(STAMP)

## Set up, then run the service locally (local Ray with both custom resources, SQLite unless DATABASE_URL).
run: setup
	$(PY) -m serve_app.local start

## Stop what `make run` started.
stop:
	$(PY) -m serve_app.local stop

## Set up, then lint, type-check and test. This is what CI runs.
test: setup
	scripts/ensure-system-tools.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/pytest

## Print every benchmark's figures (speed, colour constancy, classifier, database, serving, accuracy).
BENCHES := pipeline_speed color_constancy classifier db_latency serving accuracy pose
bench: setup
	@for b in $(BENCHES); do echo "== python -m bench.$$b"; $(PY) -m bench.$$b || exit 1; done

## Rebuild the classifier model and its card deterministically: the rules MLP from the committed
## calibrated rules, and the season head selected and fitted on both labelled sets (../shared/datasets),
## read from the measurement cache (.cache/labelled-measurements.jsonl, checked against the code and every
## photo's sha256). Without them it stops and says so: fill the cache with
## `python -m models.measurements --jobs 2` (~40 min), or `python -m models.build --rules-only` for the
## rules MLP alone. `python -m models.calibrate` recalibrates the rules (docs/accuracy.md).
model: setup
	$(PY) -m models.build

## Render the Kubernetes manifests (ENV=dev|prod) from cluster.yaml and serve_config.yaml.
ENV ?= dev
render: setup
	$(PY) -m kuberay render --env $(ENV) --out deploy/$(ENV)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
