# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8501

.PHONY: run test lint format demo screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.requirements: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.requirements-dev: requirements.txt requirements-dev.txt $(VENV)/.requirements
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

## run: set up, migrate, load the demo into an empty database, serve the dashboard
run: $(VENV)/.requirements
	$(BIN)/python -m university_models db upgrade
	$(BIN)/python -m university_models demo --if-empty
	$(BIN)/python -m university_models serve --host $(HOST) --port $(PORT)

## test: set up and run the whole suite
test: $(VENV)/.requirements-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## lint: ruff check and ruff format --check
lint: $(VENV)/.requirements-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## demo: replace the demo universities with a fresh build (yours are kept)
demo: $(VENV)/.requirements
	$(BIN)/python -m university_models db upgrade
	$(BIN)/python -m university_models demo --replace

## screenshots: refresh docs/screenshots/ (the README's pictures) from the browser test
screenshots: $(VENV)/.requirements-dev
	UNIVERSITY_SCREENSHOTS_DIR=docs/screenshots $(BIN)/python -m pytest tests/test_browser.py

format: $(VENV)/.requirements-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
