#!/bin/sh
# Container entrypoint. With MIGRATE_ON_START=1 (the web service in docker-compose.yml)
# the database is migrated before the command starts; worker and beat leave it alone.
set -eu

if [ "${MIGRATE_ON_START:-0}" = "1" ]; then
    python manage.py migrate --noinput
fi

exec "$@"
