"""The Celery application. Tasks live in each app's ``tasks.py``; schedules live in
django-celery-beat's tables (DatabaseScheduler) so administrators can change them."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partybuild.settings")

app = Celery("partybuild")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
