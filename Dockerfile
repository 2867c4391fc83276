# partybuild: one image for the web server (gunicorn), the Celery worker and Celery beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# gettext for compilemessages; the CJK fonts for anything rendered server-side in Chinese;
# postgresql-client (15, as the compose stack's server) for manage.py backup / restore.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 postgresql-client \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 1000 partybuild \
    && useradd --system --uid 1000 --gid partybuild --create-home --home-dir /home/partybuild --shell /usr/sbin/nologin partybuild

WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

# The code stays owned by root (read-only for the app user); only media is writable.
COPY . .

# Settings refuse to load in production without these; the values here are dummies used
# only by this build step and never reach the running containers.
RUN export PARTYBUILD_ENV=production \
        DJANGO_SECRET_KEY=docker-build-only-dummy-secret-key-0123456789-abcdefghijklmnop \
        DJANGO_ALLOWED_HOSTS=build.invalid \
        DATABASE_URL=postgres://build@127.0.0.1:5432/build \
        REDIS_URL=redis://127.0.0.1:6379/0 \
    && python manage.py compilemessages --ignore=.venv --ignore=staticfiles \
    && python manage.py collectstatic --noinput \
    && mkdir -p /app/media /app/backups \
    && chown partybuild:partybuild /app/media /app/backups \
    && chmod +x docker/entrypoint.sh

USER partybuild
EXPOSE 8000

ENV PARTYBUILD_ENV=production
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["gunicorn", "partybuild.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
