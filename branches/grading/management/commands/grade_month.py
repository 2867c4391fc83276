"""``manage.py grade_month YYYY-MM [--committee CODE]``: grade a month now, in this
process, and print what came out.

Without ``--committee`` every party committee that is not dissolved is graded. Each
committee gets its own run record (started from a shell), executed the way a worker
executes one, so the result is exactly what the scheduled job would have written. A
committee whose run fails is reported and the others still run; the command then exits
with an error.
"""

import datetime
import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from branches.grading import services
from branches.grading.models import BranchScore, GradingRun
from branches.models import OrgUnit
from branches.selectors import is_tracked, tracked_from_for


def parse_month(value: str) -> datetime.date:
    try:
        return datetime.datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise CommandError(f"{value!r} is not a month; write it as YYYY-MM, e.g. 2025-04.") from None


def _line(scores: list[BranchScore]) -> str:
    return "; ".join(f"{s.rank}. {s.branch.name} {s.total}" for s in scores) or "none"


class Command(BaseCommand):
    help = "Grade a month for one party committee (--committee CODE) or for all of them."

    def add_arguments(self, parser):
        parser.add_argument("month", help="the month to grade, YYYY-MM")
        parser.add_argument("--committee", metavar="CODE", help="the code of one party committee")

    def handle(self, *args, month: str, committee: str | None, **options):
        first = parse_month(month)
        committees = list(
            OrgUnit.objects.filter(kind=OrgUnit.Kind.COMMITTEE, dissolved_on__isnull=True).order_by("path")
        )
        if committee is not None:
            unit = OrgUnit.objects.filter(code=committee).first()
            if unit is None:
                raise CommandError(f"No unit has the code {committee!r}.")
            if not unit.is_committee:
                raise CommandError(f"{unit.name} ({committee}) is not a party committee.")
            committees = [unit]
        else:
            tracked_from = tracked_from_for(units=committees)
            skipped = [u for u in committees if not is_tracked(tracked_from=tracked_from[u.pk], month=first)]
            for unit in skipped:
                self.stdout.write(f"{unit.name} ({unit.code}): not tracked in {first:%Y-%m}, skipped")
            committees = [u for u in committees if u not in skipped]
        if not committees:
            raise CommandError("There is no party committee to grade.")
        failed = []
        for unit in committees:
            try:
                run = services.grading_run_request(committee=unit, month=first, trigger=GradingRun.Trigger.COMMAND)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
            started = time.perf_counter()
            try:
                services.grading_run_execute(run_id=run.pk)
            except Exception as exc:  # reported; the other committees still run
                failed.append(unit)
                self.stderr.write(f"{unit.name} ({unit.code}) {first:%Y-%m}: failed, run #{run.pk}: {exc}")
                continue
            run.refresh_from_db()
            seconds = time.perf_counter() - started
            scores = list(
                BranchScore.objects.filter(committee=unit, month=first)
                .select_related("branch")
                .order_by("rank", "branch__name")
            )
            self.stdout.write(
                f"{unit.name} ({unit.code}) {first:%Y-%m}: {run.branches_graded} branches, "
                f"{run.members_graded} members, {seconds:.2f} s, run #{run.pk}"
            )
            self.stdout.write(f"  top 3: {_line(scores[:3])}")
            self.stdout.write(f"  bottom three: {_line([s for s in scores if s.bottom_three])}")
        if failed:
            raise CommandError(f"{len(failed)} of {len(committees)} committees failed; see above.")
