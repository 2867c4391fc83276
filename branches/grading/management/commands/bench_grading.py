"""``manage.py bench_grading``: the grading benchmark of issue 4, on PostgreSQL.

On an empty database it first seeds the Ansteel-size tree (``seed_demo --members 100000
--branches 1300``); ``--reuse`` grades an existing tree instead. It then writes a dense
month (``--entries-per-member`` ledger entries for every member, 12 by default: 1.2
million at 100,000 members), the month's meetings and attendance, and the entered
scores (see ``branches.grading.bench``), and measures, in the same run:

* the baseline, in the database: the execution time of one ``GROUP BY`` of the month's
  entries by member and category (``EXPLAIN (ANALYZE, TIMING OFF)``: nothing fetched);
* the full grading of the month (every committee's run, executed together by
  ``grading_runs_execute``) of two kinds, ``--runs`` times each, each pass paired with a
  baseline measured right after it: the **first grading of fresh data** (the month's
  drafts deleted, one new entry per member written, then graded) and a **regrade with
  changes** (1 % of members given an entry, one entry in 1,200 reversed); their medians,
  ratios (target: 2 or less) and cost per member;
* the phases of one more first grading and of one regrade without changes and, when a
  ratio misses the target or ``--explain``
  is given, the plans of the members' statement, of the watermarks' and branch inputs'
  queries (every committee at once) and of the baseline;
* the draft board page of the committee with the most branches: query count and
  render time (``--no-board`` skips it).
"""

import datetime
import time
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test.utils import override_settings
from django.utils import timezone

from branches.grading import bench
from branches.models import OrgUnit, RoleBinding
from members.models import Member


def parse_month(value: str) -> datetime.date:
    try:
        return datetime.datetime.strptime(value, "%Y-%m").date()
    except ValueError as exc:
        raise CommandError(f"Give the month as YYYY-MM, not {value!r}.") from exc


class Command(BaseCommand):
    help = (
        "Benchmark the monthly grading on PostgreSQL against one raw GROUP BY of the month's ledger entries "
        "(target ratio ≤ 2), and time the board page."
    )

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=100_000, help="members of the seeded tree (100000)")
        parser.add_argument("--branches", type=int, default=1300, help="branches of the seeded tree (1300)")
        parser.add_argument(
            "--entries-per-member", type=int, default=12, help="ledger entries per member in the month (12)"
        )
        parser.add_argument("--month", type=parse_month, default=None, help="the graded month, YYYY-MM (last month)")
        parser.add_argument("--runs", type=int, default=3, help="timed passes of each measurement (3)")
        parser.add_argument(
            "--reuse",
            action="store_true",
            help="use the existing tree; skip writing the month when it already has members × entries-per-member "
            "entries",
        )
        parser.add_argument("--explain", action="store_true", help="print the query plans even within the target")
        parser.add_argument("--no-board", action="store_true", help="do not render the board page")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("bench_grading measures PostgreSQL: set DATABASE_URL.")
        if options["runs"] < 1 or options["entries_per_member"] < 1:
            raise CommandError("--runs and --entries-per-member must be at least 1.")
        month = (options["month"] or bench.previous_month(timezone.localdate())).replace(day=1)
        self.prepare_tree(options)
        admin = self.admin_user()
        self.prepare_month(month, options["entries_per_member"], admin, reuse=options["reuse"])
        # Measured as production runs: no query log kept by the debug cursor.
        with override_settings(DEBUG=False):
            self.measure(
                month, runs=options["runs"], user=admin, explain=options["explain"], board=not options["no_board"]
            )

    # --- data ---------------------------------------------------------------------------------

    def prepare_tree(self, options) -> None:
        if OrgUnit.objects.exists():
            if not options["reuse"]:
                raise CommandError(
                    "The database already has an organisation tree: give --reuse to benchmark on it, "
                    "or use an empty database to seed the Ansteel-size tree."
                )
            self.line(
                f"tree: reusing {OrgUnit.objects.filter(kind=OrgUnit.Kind.BRANCH).count():,} branches, "
                f"{Member.objects.count():,} members"
            )
            return
        self.line(f"tree: seeding {options['members']:,} members in {options['branches']:,} branches")
        started = time.perf_counter()
        call_command(
            "seed_demo",
            "--members",
            str(options["members"]),
            "--branches",
            str(options["branches"]),
            "--months",
            "0",
            stdout=self.stdout,
            verbosity=options["verbosity"],
        )
        self.line(f"tree: seeded in {time.perf_counter() - started:.1f} s")

    def admin_user(self):
        binding = RoleBinding.objects.filter(role=RoleBinding.Role.ADMIN, unit__isnull=True).select_related("user")
        binding = binding.order_by("pk").first()
        if binding is not None:
            return binding.user
        return get_user_model().objects.filter(is_superuser=True).order_by("pk").first()

    def prepare_month(self, month: datetime.date, per_member: int, admin, *, reuse: bool) -> None:
        target = Member.objects.count() * per_member
        existing = bench.entries_in_month(month=month)
        if reuse and existing >= target:
            self.line(f"data: {month:%Y-%m} already has {existing:,} ledger entries (≥ {target:,}): not written")
            return
        started = time.perf_counter()
        generated = bench.generate_month(
            month=month,
            per_member=per_member,
            user_id=admin.pk if admin else None,
            stage=lambda message: self.line(f"  {time.perf_counter() - started:6.1f} s  wrote {message}"),
        )
        elapsed = time.perf_counter() - started
        parts = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in generated.seconds.items())
        self.line(
            f"data: wrote {generated.entries:,} ledger entries ({per_member} per member), "
            f"{generated.activities:,} activities, {generated.attendances:,} attendances, "
            f"{generated.score_inputs:,} entered scores for {month:%Y-%m} in {elapsed:.1f} s ({parts})"
        )
        self.line(f"data: {month:%Y-%m} has {bench.entries_in_month(month=month):,} ledger entries")

    # --- measurements -------------------------------------------------------------------------

    def measure(self, month: datetime.date, *, runs: int, user, explain: bool, board: bool) -> None:
        committees = bench.committees()
        if not bench.autovacuum_is_on():
            self.line("note: autovacuum is off on this server; the draft tables are vacuumed before each pass")
        members = Member.objects.count()
        kinds = {
            "first grading of fresh data": self.first_grading,
            "regrade with changes": self.regrade_with_changes,
        }
        results: dict[str, list[tuple[float, float]]] = {}
        for kind, prepare in kinds.items():
            results[kind] = []
            for i in range(runs):
                note = prepare(month, i)  # not timed
                result = bench.grade_month(month=month, committees=committees, user=user)
                baseline, rows = bench.time_baseline(month=month)
                results[kind].append((result.seconds, baseline))
                self.line(
                    f"{kind} {i + 1}: {result.seconds:.2f} s ({note}; {result.runs} committees, "
                    f"{result.branches:,} branches, {result.members:,} members, {result.per_member_us:.1f} µs a member) "
                    f"| baseline GROUP BY in the database {baseline:.3f} s ({rows:,} rows) "
                    f"| ratio {result.seconds / baseline:.2f}"
                )
        self.line(f"summary (median of {runs}; target ≤ {bench.TARGET_RATIO}× the baseline):")
        within = True
        for kind, pairs in results.items():
            grading = bench.median([g for g, _b in pairs])
            baseline = bench.median([b for _g, b in pairs])
            ratio = bench.median([g / b for g, b in pairs])
            within = within and Decimal(str(ratio)) <= bench.TARGET_RATIO
            self.line(
                f"  {kind}: {grading:.2f} s | baseline {baseline:.3f} s | ratio {ratio:.2f} | "
                f"{grading / members * 1e6:.1f} µs a member, baseline {baseline / members * 1e6:.1f} µs a member"
            )
        self.phases(month, committees, user)
        if explain or not within:
            self.explain(month, committees)
        if board:
            self.board(month, user)

    def first_grading(self, month: datetime.date, i: int) -> str:
        bench.reset_drafts(month=month)
        written = bench.insert_fresh_entries(month=month)
        return f"drafts deleted, {written:,} entries written"

    def regrade_with_changes(self, month: datetime.date, i: int) -> str:
        added, reversed_ = bench.insert_changes(month=month, every=100, salt=i)
        bench.vacuum_drafts()  # what autovacuum does between two gradings
        return f"{added:,} entries added, {reversed_:,} reversed"

    def phases(self, month: datetime.date, committees: list, user) -> None:
        """The phases of one first grading of fresh data and of one regrade without
        changes right after it (the first writes every draft row, the second none)."""
        for kind, prepare in (
            ("first grading of fresh data", lambda: self.first_grading(month, 0)),
            ("regrade without changes", bench.vacuum_drafts),
        ):
            prepare()
            with bench.phase_timer() as seconds:
                result = bench.grade_month(month=month, committees=committees, user=user)
            total = result.seconds
            named = ["watermark", "member upsert", "branch inputs", "branch upsert and ranking", "groups"]
            parts = " | ".join(f"{name} {seconds.get(name, 0):.2f} s" for name in named)
            rest = total - sum(seconds.get(name, 0) for name in named)
            self.line(
                f"phases of one {kind} ({total:.2f} s): {parts} | "
                f"other (run records, rule versions, Python, commit) {rest:.2f} s"
            )

    def explain(self, month: datetime.date, committees: list) -> None:
        self.line("EXPLAIN ANALYZE of the members' statement (every committee at once):")
        for line in bench.explain_member_upsert(month=month, committees=committees):
            self.line(f"    {line}")
        for query, plan in bench.explain_inputs(month=month, committees=committees).items():
            self.line(f"EXPLAIN ANALYZE of {query}…:")
            for line in plan:
                self.line(f"    {line}")
        self.line("EXPLAIN ANALYZE of the baseline:")
        for line in bench.explain_baseline(month=month):
            self.line(f"    {line}")

    def board(self, month: datetime.date, user) -> None:
        if user is None:
            self.line("board page: no administrator to render it as")
            return
        if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
            self.line("board page: ALLOWED_HOSTS lacks testserver, not rendered")
            return
        ranked = bench.committees_by_size(month=month)
        if not ranked or bench.board_url(committee=ranked[0][0], month=month) is None:
            self.line("board page not available yet")
            return
        # The largest committee three times; the smallest once, to show the count does not grow.
        targets = [(ranked[0], 3)] + ([(ranked[-1], 1)] if len(ranked) > 1 else [])
        for (committee, branches), repeat in targets:
            figures = bench.render_board(committee=committee, branches=branches, month=month, user=user, repeat=repeat)
            if figures.error:
                self.line(f"board page ({figures.url}) failed to render: {figures.error}")
                return
            render = f"render (median of {repeat}): " if repeat > 1 else "render: "
            self.line(
                f"board page ({branches:,} branches, {figures.url}): HTTP {figures.status}, "
                f"{figures.queries} queries, {render}{bench.median(figures.seconds):.2f} s "
                f"(SQL {figures.sql_seconds:.2f} s)"
            )

    def line(self, text: str) -> None:
        self.stdout.write(text)
