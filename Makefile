# assist — the two commands are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export PORT

.PHONY: run test bench lint format install translations extract-messages clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.lock requirements-test.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("assist needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-test.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

MO := assist/translations/en/LC_MESSAGES/messages.mo assist/translations/zh/LC_MESSAGES/messages.mo
translations: $(MO)

assist/translations/%/LC_MESSAGES/messages.mo: assist/translations/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile -f -d assist/translations -l $* -i $< -o $@

# Web app on http://127.0.0.1:$(PORT) and the scheduler process, both stopped by Ctrl-C.
run: install translations
	$(BIN)/assist setup $(if $(filter 0,$(ASSIST_DEMO)),--no-demo,--demo)
	@bash scripts/run.sh

test: install translations
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -p no:cacheprovider $(PYTEST_ARGS)

# the monthly report's case builds 1,000,000 records in a database of its own: on PostgreSQL name an empty one in
# BENCH_REPORTS_DATABASE_URL (without it, a SQLite file beside the main bench database)
bench: install translations
	$(BIN)/python -m bench $(BENCH_ARGS)
	DATABASE_URL=$(BENCH_REPORTS_DATABASE_URL) $(BIN)/python -m bench.reports

lint:
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format:
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

# Refresh the message catalogues after changing texts in code or templates.
extract-messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k _p:1c,2 -k lazy_pgettext:1c,2 --omit-header -o assist/translations/messages.pot .
	$(BIN)/pybabel update -i assist/translations/messages.pot -d assist/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) .pytest_cache $(MO)
