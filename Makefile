# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
UV_VERSION ?= 0.13.9

.PHONY: run test venv check messages bench worker clean

venv: $(VENV)/.installed-dev

# Installs with uv (seconds, not half a minute) into a venv made without pip; the system's pip
# fetches uv. If uv cannot be had or fails (say only a pip mirror is reachable: uv reads
# UV_DEFAULT_INDEX, not pip.conf), pip installs instead.
define install
test -x $(BIN)/uv || $(PYTHON) -m pip --python $(BIN)/python install --quiet \
  --disable-pip-version-check "uv==$(UV_VERSION)" || true
$(BIN)/uv pip install --quiet --python $(BIN)/python pip "$(1)" || { \
  echo "uv is not available: installing with pip"; \
  $(BIN)/python -m ensurepip --upgrade >/dev/null && \
  $(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip && \
  $(BIN)/python -m pip install --quiet --disable-pip-version-check "$(1)"; }
endef

# What the product needs (`make run`); the test and lint tools come with `make venv`.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv --without-pip $(VENV)
	$(call install,.)
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(call install,.[dev])
	touch $@

# What `make run` does before serving: migrate, apply_policy, recompute_levels, seed_demo, in
# this order and in one Python process (each start of Django costs a second or two).
SETUP_STEPS := from django.core.management import call_command as run; \
  run("migrate", interactive=False); run("apply_policy"); run("recompute_levels"); run("seed_demo")

# Starts the product with demo data. SQLite and eager tasks unless DATABASE_URL/REDIS_URL are
# set; with REDIS_URL a Celery worker (with beat) runs beside the web server.
run: $(VENV)/.installed
	DEBUG=1 $(BIN)/python manage.py shell --no-startup --no-imports -c '$(SETUP_STEPS)'
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

worker: $(VENV)/.installed
	$(BIN)/celery -A timebank worker --beat --loglevel=INFO

clean:
	rm -rf $(VENV) staticfiles db.sqlite3*
