"""``manage.py bench_pages``: the key pages under load (issue 14), on PostgreSQL.

Prepares what the pages need in the database of ``DATABASE_URL`` (see
``partybuild.bench_pages``: run it on a copy of the 100k data set), starts the app under
gunicorn (2 workers, loopback, a free port, DEBUG off), logs in as each role and drives
every page with ``--users`` concurrent users for ``--seconds``, then prints requests/s,
p50 and p95 of each next to the trivial page (the login form) measured in the same run,
with the ratios and PASS/FAIL against the targets: the published board at most 3× the
trivial page, every page's p95 at most 10× the trivial page's. The queries of one
request of each page (in process, with the test client) are printed too.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
from http.client import HTTPConnection
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from partybuild import bench_pages as bench

HOST = "127.0.0.1"
LOG = Path(tempfile.gettempdir()) / "bench_pages-gunicorn.log"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Command(BaseCommand):
    help = "Drive the key pages under gunicorn at 10 concurrent users and compare them with the login page."

    def add_arguments(self, parser):
        parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per page (20)")
        parser.add_argument("--users", type=int, default=10, help="concurrent users (10)")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
        parser.add_argument("--only", default="", help="measure only the pages whose name contains this text")
        parser.add_argument("--no-queries", action="store_true", help="skip counting each page's queries")

    def line(self, text: str = "") -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("bench_pages measures PostgreSQL: set DATABASE_URL (a copy of the 100k data set).")
        started = time.perf_counter()
        try:
            scenario = bench.prepare(say=self.line)
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        self.line(f"setup: {time.perf_counter() - started:.1f} s")
        all_pages = bench.pages(scenario)
        chosen = [p for p in all_pages if options["only"].lower() in p.name.lower()]
        if not options["no_queries"]:
            self.count_queries(scenario, chosen)
        port = free_port()
        server = self.start_gunicorn(port, options["workers"])
        try:
            self.measure(scenario, chosen, port, options)
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()

    # --- queries ------------------------------------------------------------------------------

    def count_queries(self, scenario: bench.Scenario, pages: list[bench.Page]) -> None:
        users = {role: get_user_model().objects.get(username=name) for role, name in vars(scenario.logins).items()}
        clients = {}
        for role, user in users.items():
            client = Client()
            client.force_login(user)
            clients[role] = client
        self.line("queries of one request (in process):")
        for page in pages:
            client = clients[page.role]
            path, body = page.body(0) if page.body else (page.path, None)
            if page.method == "GET":
                client.get(path)  # warm: per-process caches
            with CaptureQueriesContext(connection) as captured:
                if page.method == "POST":
                    response = client.post(path, body, headers={"HX-Request": "true"})
                else:
                    response = client.get(path)
            self.line(f"  {page.name:<42} {len(captured):>4} queries  HTTP {response.status_code}")

    # --- the server ---------------------------------------------------------------------------

    def start_gunicorn(self, port: int, workers: int) -> subprocess.Popen:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        log = open(LOG, "wb")
        self.line(f"gunicorn's log: {LOG}")
        # As in production (settings: CONN_MAX_AGE 60 there, 0 in development): a worker
        # keeps its database connection. Without it every request but the anonymous
        # login form opened one — PostgreSQL forks a backend for each — and the pages
        # measured the connection, not themselves. DATABASE_CONN_MAX_AGE=0 measures that.
        env = {
            "DATABASE_CONN_MAX_AGE": "60",
            **os.environ,
            "DJANGO_DEBUG": "0",
            "DJANGO_ALLOWED_HOSTS": f"{HOST},localhost",
        }
        server = subprocess.Popen(
            [
                str(gunicorn),
                "partybuild.wsgi:application",
                "--workers",
                str(workers),
                "--bind",
                f"{HOST}:{port}",
                "--log-level",
                "warning",
                "--timeout",
                "120",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise CommandError(f"gunicorn exited with {server.returncode}")
            try:
                conn = HTTPConnection(HOST, port, timeout=5)
                conn.request("GET", reverse("login"))
                if conn.getresponse().status == 200:
                    conn.close()
                    self.line(
                        f"gunicorn: {workers} workers on {HOST}:{port}, "
                        f"database connections kept {env['DATABASE_CONN_MAX_AGE']} s"
                    )
                    return server
            except OSError:
                time.sleep(0.3)
        server.terminate()
        raise CommandError("gunicorn did not answer within 60 s")

    # --- the load -----------------------------------------------------------------------------

    def measure(self, scenario: bench.Scenario, pages: list[bench.Page], port: int, options) -> None:
        seconds, users = options["seconds"], options["users"]
        cookies = {"": {}}
        for role, username in vars(scenario.logins).items():
            cookies[role] = bench.login(HOST, port, username)
        trivial_page = bench.Page("trivial: login page (GET)", "", reverse("login"))

        def load(page: bench.Page) -> bench.Result:
            result = bench.run_load(
                host=HOST, port=port, page=page, cookies=cookies[page.role], users=users, seconds=seconds
            )
            self.line(
                f"  {result.name:<42} {result.rps:8.1f}/s  p50 {result.p50 * 1000:7.1f} ms  "
                f"p95 {result.p95 * 1000:7.1f} ms"
                + (f"  errors {result.errors} {result.statuses}" if result.errors else "")
            )
            return result

        self.line(f"load: {users} users, {seconds:g} s per page")
        before = load(trivial_page)
        results = [(page, load(page)) for page in pages]
        after = load(trivial_page)
        latencies = before.latencies + after.latencies
        trivial = bench.Result(
            "trivial", before.requests + after.requests, before.seconds + after.seconds, latencies, 0, {}
        )
        self.report(trivial, before, after, results)

    def report(self, trivial, before, after, results) -> None:
        self.line()
        self.line(
            f"trivial page: {trivial.rps:.1f}/s, p50 {trivial.p50 * 1000:.1f} ms, p95 {trivial.p95 * 1000:.1f} ms "
            f"(before the pages {before.rps:.1f}/s, after {after.rps:.1f}/s)"
        )
        header = f"{'page':<42} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'rps ×':>7} {'p50 ×':>7} {'p95 ×':>7}  target"
        self.line(header)
        self.line("-" * len(header))
        failed = 0
        for page, r in results:
            slower = trivial.rps / r.rps if r.rps else float("inf")
            p50x = r.p50 / trivial.p50
            p95x = r.p95 / trivial.p95
            checks = [f"p95 ≤ {bench.P95_RATIO}×", p95x <= bench.P95_RATIO]
            if page.target == "published":
                checks = [f"req/s ≥ ⅓, {checks[0]}", checks[1] and slower <= bench.PUBLISHED_BOARD_RATIO]
            ok = checks[1] and not r.errors
            failed += not ok
            verdict = "PASS" if ok else "FAIL" + (f" ({r.errors} errors)" if r.errors else "")
            self.line(
                f"{r.name:<42} {r.rps:8.1f} {r.p50 * 1000:8.1f} {r.p95 * 1000:8.1f} "
                f"{slower:7.1f} {p50x:7.1f} {p95x:7.1f}  {checks[0]} {verdict}"
            )
        self.line()
        self.line(
            "rps × = trivial req/s ÷ the page's (target for the published board ≤ "
            f"{bench.PUBLISHED_BOARD_RATIO}); p95 × = the page's p95 ÷ the trivial page's (target ≤ {bench.P95_RATIO})"
        )
        self.line(f"{'all pages within target' if not failed else f'{failed} page(s) missed the target'}")
