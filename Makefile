# partybuild developer tasks. `make demo` and `make test` are all a fresh machine needs
# (python3 >= 3.11 with venv); see README.md.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# Test processes (pytest-xdist): one per core of the 2-core CI machine.
TEST_WORKERS ?= 2
DEMO_ADDR ?= 127.0.0.1:8000
# `make load`: simulated users and how long (Locust's 30s, 5m, 1h).
LOAD_USERS ?= 50
LOAD_TIME ?= 5m
# form: users sign in through the login page; session: signed in beforehand (pages only).
LOAD_LOGIN ?= form
# The demo's Celery broker, results, cache and log (when REDIS_URL is not set).
DEMO_VAR ?= var

# Dummy production values for `check-deploy`: enough to pass settings validation,
# never used to connect anywhere.
DEPLOY_ENV := PARTYBUILD_ENV=production \
	DJANGO_SECRET_KEY=check-deploy-dummy-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz \
	DJANGO_ALLOWED_HOSTS=example.internal \
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
	REDIS_URL=redis://127.0.0.1:6379/0

# Exits 0 when the database holds no organisation units and no users (seed it), 3 when it does.
DB_HAS_DATA := import sys; from django.contrib.auth import get_user_model; from branches.models import OrgUnit; \
	sys.exit(3 if OrgUnit.objects.exists() or get_user_model().objects.exists() else 0)

.DEFAULT_GOAL := help
.PHONY: help venv demo test lint fmt messages compilemessages worker beat check-deploy load

help:
	@echo "make demo          venv, install, migrate, seed demo data, serve on http://$(DEMO_ADDR) with a Celery worker"
	@echo "make test          the whole test suite (extra pytest options: PYTEST_ARGS=...)"
	@echo "make lint | fmt    ruff check + format check | ruff format + fix"
	@echo "make messages      update and compile the zh_Hans translations"
	@echo "make worker | beat run a Celery worker | beat (needs REDIS_URL)"
	@echo "make check-deploy  manage.py check --deploy with production settings"
	@echo "make load          Locust load test ($(LOAD_USERS) users, $(LOAD_TIME)) on DATABASE_URL + REDIS_URL, then check_consistency"
	@echo "make backup        dump the database and media with a manifest (BACKUP_DIR=...)"
	@echo "make restore BACKUP=dir   restore a backup into an empty database and verify it"

venv: $(STAMP)

# Reinstall only when a requirements file is newer than the stamp.
$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "partybuild needs Python >= 3.11; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)." >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || \
		{ echo "Could not create $(VENV); on Debian: apt-get install python3-venv" >&2; exit 1; }
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $@

# The compiled .mo files are committed, so missing gettext only means they are not rebuilt.
compilemessages: venv
	@if command -v msgfmt >/dev/null 2>&1; then \
		$(MANAGE) compilemessages --ignore=$(VENV) --ignore=staticfiles; \
	else \
		echo "msgfmt not found: skipping compilemessages and using the committed .mo files" \
			"(to rebuild them: apt-get install gettext)."; \
	fi

# The demo's Celery worker runs on Redis when REDIS_URL is set, else on an embedded
# broker: a SQLite file under $(DEMO_VAR) (see settings.py). The seed runs its tasks in-process.
demo: export CELERY_BROKER_URL := $(if $(REDIS_URL),,$(or $(CELERY_BROKER_URL),sqla+sqlite:///$(abspath $(DEMO_VAR))/celery.sqlite3))
demo: venv compilemessages
	$(MANAGE) migrate --noinput
	@$(MANAGE) shell --no-imports -c '$(DB_HAS_DATA)'; status=$$?; \
	if [ $$status -eq 0 ]; then \
		DEMO_ADDR=$(DEMO_ADDR) CELERY_TASK_ALWAYS_EAGER=true $(MANAGE) seed_demo; \
	elif [ $$status -eq 3 ]; then \
		echo; \
		echo "The database already has data, so seed_demo was skipped. The demo logins (when seeded by seed_demo):"; \
		echo "  admin / committee / secretary / member    password: partybuild-demo"; \
		echo; \
	else \
		exit $$status; \
	fi
	@mkdir -p $(DEMO_VAR)
	@echo "Serving on http://$(DEMO_ADDR)/ with a Celery worker and beat (log: $(DEMO_VAR)/celery.log; Ctrl-C stops both)"
	@$(BIN)/celery -A partybuild worker --beat --concurrency=2 --without-gossip --without-mingle \
		--loglevel=info >>$(DEMO_VAR)/celery.log 2>&1 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; trap 'exit 130' INT TERM; \
	$(MANAGE) runserver $(DEMO_ADDR)

test: venv
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

messages: venv
	$(MANAGE) makemessages -l zh_Hans --ignore=$(VENV) --ignore=staticfiles
	$(MANAGE) compilemessages --ignore=$(VENV) --ignore=staticfiles

worker: venv
	$(BIN)/celery -A partybuild worker -l info

beat: venv
	$(BIN)/celery -A partybuild beat -l info --scheduler django_celery_beat.schedulers:DatabaseScheduler

check-deploy: venv
	env $(DEPLOY_ENV) $(MANAGE) check --deploy --fail-level WARNING

# Writes load-test logins (load-…) into DATABASE_URL's database: point it at a copy
# (createdb -T pb_bench pb_load_100k), never at live data.
load: venv
	@test -n "$(DATABASE_URL)" -a -n "$(REDIS_URL)" || \
		{ echo "make load needs DATABASE_URL (PostgreSQL, e.g. a copy of the 100k data set) and REDIS_URL" >&2; exit 2; }
	$(MANAGE) load_run --users $(LOAD_USERS) --time $(LOAD_TIME) --login $(LOAD_LOGIN)

# Issue 14: the key pages under gunicorn at 10 concurrent users beside the login page.
# Writes its logins, a publication and an activity into DATABASE_URL: use a copy of the
# 100k data set (createdb -T pb_bench pb_copy). Options: BENCH_PAGES_ARGS="--seconds 20".
BENCH_PAGES_ARGS ?=
.PHONY: bench-pages
bench-pages: venv
	$(MANAGE) bench_pages $(BENCH_PAGES_ARGS)
# Backups (partybuild/backup.py): a consistent database dump, MEDIA_ROOT and a manifest of
# checksums and key figures in a new directory under BACKUP_ROOT (or BACKUP_DIR=...);
# restore only into an empty database: make restore BACKUP=backups/partybuild-...
.PHONY: backup restore
backup: venv
	$(MANAGE) backup $(if $(BACKUP_DIR),--dir $(BACKUP_DIR))

restore: venv
	@test -n "$(BACKUP)" || { echo "Usage: make restore BACKUP=<backup directory>" >&2; exit 2; }
	$(MANAGE) restore $(BACKUP)
