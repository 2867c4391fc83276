"""``python manage.py export_year 2026 --committee PLANT --format xlsx --out plant.xlsx``:
the year-end report written synchronously by the same writers as the Celery task."""

import os
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone, translation

from branches.models import OrgUnit
from branches.reports.models import ReportFile
from branches.reports.services import FIRST_YEAR, year_writer


class Command(BaseCommand):
    help = "Write a committee's year-end report (XLSX or PDF) to a file."

    def add_arguments(self, parser):
        parser.add_argument("year", type=int)
        parser.add_argument("--committee", required=True, help="the party committee's code")
        parser.add_argument("--format", required=True, choices=ReportFile.Format.values, dest="fmt")
        parser.add_argument("--out", required=True, help="the file to write")
        parser.add_argument("--language", default="zh-hans", help="the language of the headers (default zh-hans)")

    def handle(self, *args, year: int, committee: str, fmt: str, out: str, language: str, **options):
        if not FIRST_YEAR <= year <= timezone.localdate().year:
            raise CommandError(f"The year must lie between {FIRST_YEAR} and this year.")
        unit = OrgUnit.objects.filter(code=committee, kind=OrgUnit.Kind.COMMITTEE).first()
        if unit is None:
            raise CommandError(f"No party committee has the code {committee!r}.")
        directory = os.path.dirname(os.path.abspath(out))
        if not os.path.isdir(directory):
            raise CommandError(f"The directory {directory} does not exist.")
        started = time.perf_counter()
        tmp = f"{out}.part"
        try:
            with translation.override(language):
                year_writer(fmt)(tmp, committee=unit, year=year, progress=lambda pct: None)
            os.replace(tmp, out)  # a crash leaves no half-written file at ``out``
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        self.stdout.write(f"{out}: {os.path.getsize(out)} bytes in {time.perf_counter() - started:.1f} s")
