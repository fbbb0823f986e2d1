# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test venv check messages bench worker clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet ".[dev]"
	touch $@

# Starts the product with demo data. SQLite and eager tasks unless DATABASE_URL/REDIS_URL are
# set; with REDIS_URL a Celery worker (with beat) runs beside the web server.
run: venv
	DEBUG=1 $(BIN)/python manage.py migrate --no-input
	DEBUG=1 $(BIN)/python manage.py apply_policy
	DEBUG=1 $(BIN)/python manage.py recompute_levels
	DEBUG=1 $(BIN)/python manage.py seed_demo
	@if [ -n "$$REDIS_URL" ]; then \
	  echo "Starting a Celery worker with beat (REDIS_URL is set)"; \
	  DEBUG=1 $(BIN)/celery -A timebank worker --beat --loglevel=INFO --concurrency=2 & \
	  trap "kill $$! 2>/dev/null" EXIT INT TERM; \
	  DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT); \
	else \
	  DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT); \
	fi

# The whole suite, after the static checks. Uses DATABASE_URL/REDIS_URL when set.
test: venv check
	$(BIN)/python -m pytest $(PYTEST_ARGS)

check: venv
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	env -u DATABASE_URL -u REDIS_URL DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

# Regenerates and compiles the translation catalogues (needs GNU gettext).
messages: venv
	for app in branches accounts ledger orders exchange honour reports; do \
	  (cd $$app && ../$(BIN)/django-admin makemessages -l zh_Hans -l en --no-obsolete) || exit 1; \
	done
	DEBUG=1 $(BIN)/python manage.py makemessages -l zh_Hans -l en --no-obsolete \
	  -i "branches/*" -i "accounts/*" -i "ledger/*" -i "orders/*" -i "exchange/*" -i "honour/*" -i "reports/*" -i ".venv/*" -i "tests/*" -i "bench/*"
	DEBUG=1 $(BIN)/python manage.py compilemessages -i .venv

worker: venv
	$(BIN)/celery -A timebank worker --beat --loglevel=INFO

clean:
	rm -rf $(VENV) staticfiles db.sqlite3*
