"""``manage.py load_run`` (``make load``): the Locust load test against gunicorn and a
real Celery worker on this installation's database and Redis, then the consistency
check. Exits 1 on any failed request or inconsistency (``partybuild.load.run``)."""

import os

from django.core.management.base import BaseCommand, CommandError

from partybuild.load.run import load_run, report


class Command(BaseCommand):
    help = "Load test: gunicorn + Celery + Locust (headless, loopback only), then check_consistency."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=int(os.environ.get("LOAD_USERS", 50)))
        parser.add_argument("--time", default=os.environ.get("LOAD_TIME", "5m"), help="how long: 30s, 5m …")
        parser.add_argument("--spawn-rate", type=float, default=None, help="users started a second")
        parser.add_argument(
            "--login",
            choices=["form", "session"],
            default=os.environ.get("LOAD_LOGIN", "form"),
            help="form: every user signs in through the login page (the password hasher's cost included); "
            "session: signed-in sessions are made beforehand, so the run measures the pages only",
        )
        parser.add_argument("--workdir", default=None, help="where the plan, CSVs and logs go (a temp dir)")

    def handle(self, *args, **options):
        result = load_run(
            users=options["users"],
            run_time=options["time"],
            spawn_rate=options["spawn_rate"],
            out=self.stdout,
            workdir=options["workdir"],
            sessions=options["login"] == "session",
        )
        report(result, out=self.stdout)
        if not result.ok:
            raise CommandError("the load run had failures or inconsistencies")
        self.stdout.write(self.style.SUCCESS("load run passed: 0 failures, consistent"))
