"""``python manage.py bench_export [--reuse] [--year 2026] [--runs 3] [--pdf CODE …]``
(PostgreSQL): the year-end XLSX against XlsxWriter alone, and the year PDF's memory as
the tree grows.

On an empty database it first seeds the tree (``seed_demo --members 100000 --branches
1300``); ``--reuse`` works on an existing tree instead. Every committee month of the year
without a publication gets one, written set-based: a succeeded ``GradingRun``, a
``Publication``, and one ``INSERT … SELECT`` each for the branches' and the members'
published scores with generated numbers (nothing goes through the services: the
benchmark measures the export, not the writing).

**XLSX** (the root committee, every member; ``--committee`` for another):

1. *fetch*: the workbook is written once with a workbook class that records every cell
   XlsxWriter is given (value, type, format) — the exact cells of the export;
2. *baseline*: XlsxWriter alone writes those cells from memory with the same formats
   in constant-memory mode (worksheets and formats made before the clock starts;
   writing and closing the file timed);
3. *export*: ``write_year_xlsx`` end to end (queries included) in a fresh process
   (``manage.py bench_export --child xlsx``), which reports its own peak RSS
   (``VmHWM``: the process's, not this one's).

Baseline and export alternate ``--runs`` times; the medians and their ratio are printed.
Targets: export ≤ 1.5 × baseline, peak RSS < 200 MB.

**PDF** (``--pdf CODE …``, the committees to render, e.g. the smallest and the largest):
``write_year_pdf`` in a fresh process each, printing branches, pages, time and peak
RSS, so memory can be read against the size of the tree.
"""

import datetime
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import xlsxwriter
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import override_settings
from django.utils import timezone, translation
from xlsxwriter.worksheet import Worksheet

from branches.activities.compliance import branches_under
from branches.grading.models import GradingRun, Publication
from branches.models import OrgUnit
from branches.reports import xlsx as year_xlsx
from members.models import Member

TARGET_RATIO = 1.5
TARGET_MB = 200

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
    help = "Benchmark the year-end XLSX against XlsxWriter alone, and the year PDF's memory (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--reuse", action="store_true", help="use the existing tree and published months")
        parser.add_argument("--year", type=int, default=timezone.localdate().year)
        parser.add_argument("--runs", type=int, default=3, help="baseline/export pairs for the XLSX")
        parser.add_argument("--committee", help="the XLSX's committee code (default: the root)")
        parser.add_argument("--no-xlsx", action="store_true", help="skip the XLSX")
        parser.add_argument("--pdf", nargs="*", default=[], metavar="CODE", help="committees whose year PDF to time")
        parser.add_argument("--child", choices=["xlsx", "pdf"], help=argparse_suppress())

    def handle(self, *args, reuse: bool, year: int, runs: int, committee: str | None, **options):
        if connection.vendor != "postgresql":
            raise CommandError("bench_export needs PostgreSQL (set DATABASE_URL).")
        if options["child"]:
            return self.child(options["child"], committee, year)
        self.prepare_tree(reuse)
        self.prepare_year(year)
        ok = True
        with override_settings(DEBUG=False), translation.override("zh-hans"):
            if not options["no_xlsx"]:
                unit = (
                    OrgUnit.objects.get(code=committee, kind=OrgUnit.Kind.COMMITTEE)
                    if committee
                    else OrgUnit.objects.filter(kind=OrgUnit.Kind.COMMITTEE, parent__isnull=True).order_by("pk").first()
                )
                ok = self.bench_xlsx(unit, year, runs)
            if options["pdf"]:
                self.bench_pdf(options["pdf"], year)
        if not options["no_xlsx"]:
            self.line(("within" if ok else "OUTSIDE") + f" the XLSX targets (≤ {TARGET_RATIO}×, < {TARGET_MB} MB)")

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

    # --- measurement ---------------------------------------------------------------------

    def run_child(self, kind: str, committee: OrgUnit, year: int) -> dict:
        """``write_year_<kind>`` in a fresh process: its own time and peak RSS."""
        command = [sys.executable, sys.argv[0], "bench_export", "--child", kind]
        command += ["--committee", committee.code, "--year", str(year)]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode:
            raise CommandError(f"the {kind} child failed:\n{result.stderr[-3000:]}")
        return json.loads(result.stdout.strip().splitlines()[-1])

    def child(self, kind: str, code: str, year: int) -> None:
        committee = OrgUnit.objects.get(code=code, kind=OrgUnit.Kind.COMMITTEE)
        handle, path = tempfile.mkstemp(prefix="bench-export-", suffix=f".{kind}")
        os.close(handle)
        ready_mb = rss_mb()  # Django and the apps loaded, before the export
        try:
            with override_settings(DEBUG=False), translation.override("zh-hans"):
                started = time.perf_counter()
                if kind == "xlsx":
                    year_xlsx.write_year_xlsx(path, committee=committee, year=year)
                    pages = None
                else:
                    from pypdf import PdfReader

                    from branches.reports.pdf import write_year_pdf

                    write_year_pdf(path, committee=committee, year=year, progress=lambda pct: None)
                seconds = time.perf_counter() - started
                peak = rss_mb()
                if kind == "pdf":
                    from branches.reports.pdfworker import STATS

                    renderer_mb, renderers = STATS["peak_mb"], STATS["processes"]
                if kind == "pdf":
                    pages = len(PdfReader(path).pages)
            size = os.path.getsize(path)
        finally:
            os.remove(path)
        result = {"seconds": seconds, "rss_mb": peak, "ready_mb": ready_mb, "size": size, "pages": pages}
        if kind == "pdf":
            result.update(renderer_mb=renderer_mb, renderers=renderers)
        self.stdout.write(json.dumps(result))

    def bench_xlsx(self, committee: OrgUnit, year: int, runs: int) -> bool:
        members = Member.objects.filter(branch__path__startswith=committee.path).count()
        self.line(f"XLSX: {committee.name} ({committee.code}), {members:,} members placed, {year}")
        handle, path = tempfile.mkstemp(prefix="bench-export-", suffix=".xlsx")
        os.close(handle)
        try:
            started = time.perf_counter()
            recorder = RecordingWorkbook.recording(path, committee=committee, year=year)
            cells = sum(len(sheet.cells) for sheet in recorder.recorded)
            self.line(
                f"  fetch (the export once, recording every cell): {cells:,} cells in {time.perf_counter() - started:.1f} s"
            )
            baselines, exports = [], []
            for run in range(runs):
                baselines.append(replay(recorder, path))
                exports.append(self.run_child("xlsx", committee, year))
                self.line(
                    f"  run {run + 1}: XlsxWriter alone {baselines[-1]:.2f} s, "
                    f"export end to end {exports[-1]['seconds']:.2f} s, peak RSS {exports[-1]['rss_mb']:.0f} MB"
                )
        finally:
            os.remove(path)
        baseline = statistics.median(baselines)
        export = statistics.median(e["seconds"] for e in exports)
        rss = max(e["rss_mb"] for e in exports)
        ratio = export / baseline
        self.line(
            f"  median: XlsxWriter alone {baseline:.2f} s, export {export:.2f} s, ratio {ratio:.2f}× "
            f"(target ≤ {TARGET_RATIO}×); peak RSS {rss:.0f} MB (target < {TARGET_MB} MB; "
            f"the process held {exports[0]['ready_mb']:.0f} MB before the export); "
            f"file {exports[0]['size'] / 1024 / 1024:.1f} MB"
        )
        return ratio <= TARGET_RATIO and rss < TARGET_MB

    def bench_pdf(self, codes: list[str], year: int) -> None:
        self.line("PDF: each committee's year PDF in a fresh process")
        for code in codes:
            committee = OrgUnit.objects.get(code=code, kind=OrgUnit.Kind.COMMITTEE)
            branches = len(branches_under(unit=committee, year=year))
            members = Member.objects.filter(branch__path__startswith=committee.path).count()
            result = self.run_child("pdf", committee, year)
            self.line(
                f"  {committee.name} ({code}): {branches} branches, {members:,} members, {result['pages']} pages, "
                f"{result['seconds']:.1f} s ({result['seconds'] / result['pages']:.2f} s a page), "
                f"peak RSS {result['rss_mb']:.0f} MB ({result['rss_mb'] - result['ready_mb']:.0f} MB over the "
                f"{result['ready_mb']:.0f} MB of the loaded process) + the renderer's {result['renderer_mb']:.0f} MB "
                f"(the largest of {result['renderers']} renderer processes), file {result['size'] / 1024 / 1024:.1f} MB"
            )


def argparse_suppress():
    import argparse

    return argparse.SUPPRESS


def rss_mb() -> float:
    """This process's peak resident set so far, in MB: Linux's ``VmHWM``, which starts
    afresh at ``exec`` (``getrusage``'s ``ru_maxrss`` would carry over the peak of the
    parent that forked it — here the bench holding a million recorded cells)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)


# --- XlsxWriter alone --------------------------------------------------------------------


class RecordingWorksheet(Worksheet):
    """A worksheet that keeps every cell it is given, as (method, row, col, value, format)."""

    def __init__(self):
        super().__init__()
        self.cells: list[tuple] = []

    def write_string(self, row, col, string, cell_format=None):
        self.cells.append(("write_string", row, col, string, cell_format))
        return super().write_string(row, col, string, cell_format)

    def write_number(self, row, col, number, cell_format=None):
        self.cells.append(("write_number", row, col, number, cell_format))
        return super().write_number(row, col, number, cell_format)

    def write_blank(self, row, col, blank, cell_format=None):
        self.cells.append(("write_blank", row, col, blank, cell_format))
        return super().write_blank(row, col, blank, cell_format)

    def write_datetime(self, row, col, date, cell_format=None):
        self.cells.append(("write_datetime", row, col, date, cell_format))
        return super().write_datetime(row, col, date, cell_format)

    def write_boolean(self, row, col, boolean, cell_format=None):
        self.cells.append(("write_boolean", row, col, boolean, cell_format))
        return super().write_boolean(row, col, boolean, cell_format)


class RecordingWorkbook(xlsxwriter.Workbook):
    """The workbook ``write_year_xlsx`` is given to record its cells and formats."""

    def __init__(self, *args, **kwargs):
        self.recorded: list[RecordingWorksheet] = []
        self.format_props: dict[int, dict] = {}
        self.recording_formats = False  # not the workbook's own default format
        super().__init__(*args, **kwargs)
        self.recording_formats = True

    def add_format(self, properties=None):
        cell_format = super().add_format(properties)
        if self.recording_formats:
            self.format_props[id(cell_format)] = dict(properties or {})
        return cell_format

    def add_worksheet(self, name=None, worksheet_class=None):
        sheet = super().add_worksheet(name, worksheet_class=RecordingWorksheet)
        self.recorded.append(sheet)
        return sheet

    @classmethod
    def recording(cls, path, *, committee: OrgUnit, year: int) -> "RecordingWorkbook":
        made: list[RecordingWorkbook] = []

        def workbook(*args, **kwargs):
            made.append(cls(*args, **kwargs))
            return made[0]

        year_xlsx.write_year_xlsx(path, committee=committee, year=year, workbook_class=workbook)
        return made[0]


def replay(recorder: RecordingWorkbook, path: str) -> float:
    """Seconds XlsxWriter takes to write the recorded cells with the same formats, in
    constant-memory mode, and close the file."""
    workbook = xlsxwriter.Workbook(path, {"constant_memory": True})
    formats = {key: workbook.add_format(props) for key, props in recorder.format_props.items()}
    formats[id(None)] = None
    calls = []
    for sheet in recorder.recorded:
        worksheet = workbook.add_worksheet(sheet.name)
        methods = {name: getattr(worksheet, name) for name in {cell[0] for cell in sheet.cells}}
        calls.append([(methods[m], r, c, v, formats[id(f)]) for m, r, c, v, f in sheet.cells])
    started = time.perf_counter()
    for sheet_calls in calls:
        for method, row, col, value, cell_format in sheet_calls:
            method(row, col, value, cell_format)
    workbook.close()
    return time.perf_counter() - started
