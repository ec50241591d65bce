# Two commands set up everything on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run run-prod test lint messages screenshots demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

## make run: the site on SQLite + the in-memory channel layer, with the demo community.
run: $(VENV)/.installed
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py load_demo
	$(BIN)/uvicorn config.asgi:application --host $(HOST) --port $(PORT) --lifespan off

## make run-prod: the production profile on this machine: two uvicorn workers on the local
## PostgreSQL and Redis, with the demo data (deploy/run-prod.sh says what differs from a deployment).
run-prod: $(VENV)/.installed
	HOST=$(HOST) PORT=$(PORT) bash deploy/run-prod.sh

## make test: lint, migrations check and the whole suite.
test: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest

## make screenshots: walk every flow in Chromium again and keep its screenshots in docs/screenshots/
## (the help pages and this README show them); `make test` keeps them in test-artifacts/ only.
screenshots: $(VENV)/.dev-installed
	UPDATE_SCREENSHOTS=1 $(BIN)/pytest tests/e2e/test_walk.py -p no:cacheprovider

## make messages: refresh both catalogues from the source, then compile them.
messages: $(VENV)/.dev-installed
	$(BIN)/python manage.py makemessages --locale zh_Hans --locale en --ignore '.venv/*' --ignore 'tests/*' --ignore 'test-artifacts/*' --ignore 'staticfiles/*' --no-obsolete
	# English is the source: msgmerge's fuzzy guesses for changed msgids are emptied (the header,
	# msgid "", stays), then msgen copies every msgid. msgattrib --empty would empty the header too.
	$(BIN)/python -c "import polib; po = polib.pofile('locale/en/LC_MESSAGES/django.po'); fuzzy = [e for e in po if e.msgid and 'fuzzy' in e.flags]; [(e.flags.remove('fuzzy'), setattr(e, 'msgstr', ''), e.msgstr_plural.update(dict.fromkeys(e.msgstr_plural, ''))) for e in fuzzy]; po.save()"
	msgen --force-po -o locale/en/LC_MESSAGES/django.po locale/en/LC_MESSAGES/django.po
	$(BIN)/python manage.py compilemessages --ignore '.venv/*'

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache .ruff_cache .run-prod
