"""``python manage.py bench_export [--reuse] [--year 2026]`` (PostgreSQL): the year-end
XLSX on the Ansteel-size tree, with its time and peak memory.

On an empty database it first seeds the tree (``seed_demo --members 100000 --branches
1300``); ``--reuse`` works on an existing tree instead. Every committee month of the year
without a publication gets one, written set-based: a succeeded ``GradingRun``, a
``Publication``, and one ``INSERT … SELECT`` each for the branches' and the members'
published scores with generated numbers (nothing goes through the services: the
benchmark measures the export, not the writing). It then times ``write_year_xlsx`` for
the committee with the most members and for the root committee (every member), printing
the time, tracemalloc's peak and the process's peak RSS. Targets: 60 s, 500 MB.
"""

import datetime
import os
import resource
import sys
import tempfile
import time
import tracemalloc

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import override_settings
from django.utils import timezone, translation

from branches.activities.compliance import branches_under
from branches.grading.models import GradingRun, Publication
from branches.models import OrgUnit
from branches.reports.xlsx import write_year_xlsx
from members.models import Member

TARGET_SECONDS = 60
TARGET_MB = 500

# Generated points of member m in month k: each category a small function of (m, k);
# the total is their sum. Branch totals 60–99.99 by branch and month.
MEMBER_SQL = """
INSERT INTO grading_publishedmemberscore
    (publication_id, member_id, branch_id, political, training, org_life, exemplary, duty, deduction, total, stars)
SELECT map.publication_id, m.id, m.branch_id, s.political, s.training, s.org_life, s.exemplary, s.duty, s.deduction,
       s.political + s.training + s.org_life + s.exemplary + s.duty + s.deduction,
       CASE WHEN s.political + s.training + s.org_life + s.exemplary + s.duty + s.deduction >= 30 THEN 5
            WHEN s.political + s.training + s.org_life + s.exemplary + s.duty + s.deduction >= 24 THEN 4
            WHEN s.political + s.training + s.org_life + s.exemplary + s.duty + s.deduction >= 18 THEN 3
            WHEN s.political + s.training + s.org_life + s.exemplary + s.duty + s.deduction >= 12 THEN 2
            ELSE 1 END
FROM members_member m
JOIN (SELECT unnest(%(branches)s::int[]) AS branch_id, unnest(%(publications)s::int[]) AS publication_id) map
  ON map.branch_id = m.branch_id
CROSS JOIN LATERAL (SELECT
    ((m.id + %(k)s) %% 2) * 3.00 AS political,
    ((m.id * 7 + %(k)s) %% 11)::numeric AS training,
    (((m.id * 3 + %(k)s) %% 6) * 2)::numeric AS org_life,
    ((m.id * 5 + %(k)s) %% 4) * 2.50 AS exemplary,
    ((m.id * 11 + %(k)s) %% 3) * 2.00 AS duty,
    -(((m.id * 13 + %(k)s) %% 7) / 6)::numeric * 2 AS deduction) s
WHERE m.left_on IS NULL
ON CONFLICT DO NOTHING
"""

# The bottom three are ranked in the same INSERT: published rows are append-only (a
# trigger refuses any UPDATE), so nothing may be set afterwards.
BRANCH_SQL = """
INSERT INTO grading_publishedbranchscore
    (publication_id, branch_id, basics, committee_work, production, membership, other, total, rank, bottom_three,
     required, held, present, late, absent, excused, members, member_mean, max_mean, attendance_half, points_half)
SELECT publication_id, branch_id, total, total, total, total, total, total,
       rank() OVER (PARTITION BY publication_id ORDER BY total DESC, branch_id),
       rank() OVER (PARTITION BY publication_id ORDER BY total ASC, branch_id DESC) <= 3,
       4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0
FROM (SELECT unnest(%(branches)s::int[]) AS branch_id, unnest(%(publications)s::int[]) AS publication_id) map
CROSS JOIN LATERAL (SELECT 60 + ((branch_id * 37 + %(k)s * 11) %% 4000) / 100.0 AS total) t
ON CONFLICT DO NOTHING
"""


class Command(BaseCommand):
    help = "Benchmark the year-end XLSX on the Ansteel-size tree (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--reuse", action="store_true", help="use the existing tree and published months")
        parser.add_argument("--year", type=int, default=timezone.localdate().year)

    def handle(self, *args, reuse: bool, year: int, **options):
        if connection.vendor != "postgresql":
            raise CommandError("bench_export needs PostgreSQL (set DATABASE_URL).")
        self.prepare_tree(reuse)
        self.prepare_year(year)
        largest = max(
            OrgUnit.objects.filter(kind=OrgUnit.Kind.COMMITTEE, parent__isnull=False),
            key=lambda unit: Member.objects.filter(branch__path__startswith=unit.path, left_on__isnull=True).count(),
            default=None,
        )
        root = OrgUnit.objects.filter(kind=OrgUnit.Kind.COMMITTEE, parent__isnull=True).order_by("pk").first()
        results = []
        with override_settings(DEBUG=False), translation.override("zh-hans"):
            for committee in [c for c in (largest, root) if c is not None]:
                results.append(self.measure(committee, year))
        ok = all(seconds < TARGET_SECONDS and peak < TARGET_MB and rss < TARGET_MB for _, seconds, peak, rss in results)
        self.stdout.write(("within" if ok else "OUTSIDE") + f" the targets ({TARGET_SECONDS} s, {TARGET_MB} MB)")

    def line(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    # --- data ------------------------------------------------------------------------------

    def prepare_tree(self, reuse: bool) -> None:
        if OrgUnit.objects.exists():
            if not reuse:
                raise CommandError(
                    "The database already has an organisation tree: give --reuse to benchmark on it, "
                    "or use an empty database to seed the Ansteel-size tree."
                )
            return
        self.line("seeding the Ansteel-size tree (seed_demo --members 100000 --branches 1300)…")
        call_command("seed_demo", "--members", "100000", "--branches", "1300", stdout=self.stdout)

    def prepare_year(self, year: int) -> None:
        """A publication for every committee month of ``year`` that has none."""
        started = time.perf_counter()
        graded: dict[int, list[int]] = {}
        for entry in branches_under(unit=OrgUnit.objects.filter(parent__isnull=True).order_by("pk").first(), year=year):
            if entry.committee is not None:
                graded.setdefault(entry.committee.pk, []).append(entry.branch.pk)
        written = 0
        for k in range(1, 13):
            month = datetime.date(year, k, 1)
            have = set(Publication.objects.filter(month=month).values_list("committee_id", flat=True))
            missing = [pk for pk in graded if pk not in have]
            if not missing:
                continue
            with transaction.atomic():
                runs = GradingRun.objects.bulk_create(
                    GradingRun(committee_id=pk, month=month, state=GradingRun.State.SUCCEEDED) for pk in missing
                )
                publications = Publication.objects.bulk_create(
                    Publication(committee_id=run.committee_id, month=month, version=1, run=run, note="bench_export")
                    for run in runs
                )
                branch_ids, publication_ids = [], []
                for publication in publications:
                    for branch_id in graded[publication.committee_id]:
                        branch_ids.append(branch_id)
                        publication_ids.append(publication.pk)
                params = {"branches": branch_ids, "publications": publication_ids, "k": k}
                with connection.cursor() as cursor:
                    cursor.execute(BRANCH_SQL, params)
                    cursor.execute(MEMBER_SQL, params)
                    written += cursor.rowcount
        if written:
            with connection.cursor() as cursor:
                # Statistics for what was just loaded, as autovacuum would have them.
                cursor.execute("ANALYZE")
            self.line(f"data: {written:,} published member months written in {time.perf_counter() - started:.1f} s")
        else:
            self.line(f"data: every committee month of {year} is already published")

    # --- measurement -----------------------------------------------------------------------

    def measure(self, committee: OrgUnit, year: int) -> tuple[str, float, float, float]:
        members = Member.objects.filter(branch__path__startswith=committee.path).count()
        handle, path = tempfile.mkstemp(prefix="bench-export-", suffix=".xlsx")
        os.close(handle)
        try:
            # Timed without tracemalloc (which slows Python down), then measured with it.
            started = time.perf_counter()
            write_year_xlsx(path, committee=committee, year=year, progress=lambda pct: None)
            seconds = time.perf_counter() - started
            size = os.path.getsize(path)
            tracemalloc.start()
            traced_started = time.perf_counter()
            write_year_xlsx(path, committee=committee, year=year, progress=lambda pct: None)
            traced_seconds = time.perf_counter() - traced_started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        finally:
            os.remove(path)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
        peak_mb = peak / 1024 / 1024
        self.line(
            f"{committee.name} ({committee.code}): {members:,} members, {year}: {seconds:.1f} s, "
            f"tracemalloc peak {peak_mb:.0f} MB (run traced: {traced_seconds:.1f} s), peak RSS {rss:.0f} MB, file {size / 1024 / 1024:.1f} MB"
        )
        return committee.name, seconds, peak_mb, rss
