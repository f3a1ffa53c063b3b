# Pipeguard: `make run` starts the embedded stack, `make test` runs the whole suite.
# Every target installs what it needs into .venv first (quick when nothing changed).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
PYTEST_ARGS ?= -n auto

.PHONY: install run demo test lint format clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

run: install
	PORT=$(PORT) $(PY) -m chalicelib.local run --port $(PORT)

demo: install
	$(PY) -m chalicelib.local demo

test: install lint
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check app.py chalicelib collectors rules tests

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format app.py chalicelib collectors rules tests

clean:
	rm -rf $(VENV) .local .pytest_cache .ruff_cache
