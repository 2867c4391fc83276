"""``manage.py bench_grading`` at toy scale: it seeds, writes a dense month and prints its figures."""

import datetime
import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from branches.activities.models import Activity, Attendance
from branches.grading.bench import previous_month
from branches.grading.models import BranchScore, GradingRun, MemberScore, ScoreInput
from branches.models import OrgUnit
from members.ledger.models import LedgerEntry
from members.models import Member
from members.selectors import members_of_branch_at

from ..conftest import requires_postgres

pytestmark = pytest.mark.django_db
MONTH = datetime.date(2025, 3, 1)  # a quarter's last month: every kind of meeting is required
MONTH_END = datetime.date(2025, 3, 31)


def bench(*args: str) -> str:
    out = io.StringIO()
    call_command("bench_grading", *args, "--month", f"{MONTH:%Y-%m}", stdout=out)
    return out.getvalue()


def test_the_benchmark_seeds_a_tree_writes_a_dense_month_and_prints_its_figures():
    requires_postgres()
    output = bench("--members", "300", "--branches", "12", "--entries-per-member", "12")

    members = Member.objects.count()
    assert members == 300
    # The dense month (12 a member), then one fresh entry a member before each of the
    # three first gradings; the changes between regrades are marked by their reason.
    # 12 a member, and one more for each first grading of fresh data (three, and the phases').
    assert LedgerEntry.objects.filter(month=MONTH, reason="").count() == members * (12 + 4)
    assert LedgerEntry.objects.filter(month=MONTH, reason="bench reversal", reverses__isnull=False).exists()
    assert LedgerEntry.objects.filter(month=MONTH, points__lt=0).exists()  # deductions are in the mix
    branches = OrgUnit.objects.filter(kind=OrgUnit.Kind.BRANCH).count()
    assert branches == 12
    assert ScoreInput.objects.filter(month=MONTH).count() == branches * 3
    # A themed Party day for every branch, with everyone who belonged to it at the month's end.
    assert Activity.objects.filter(date__month=3, kind="themed_day").count() == branches
    expected = sum(
        members_of_branch_at(branch=b, on_date=MONTH_END).count()
        for b in OrgUnit.objects.filter(kind=OrgUnit.Kind.BRANCH)
    )
    assert Attendance.objects.filter(activity__kind="themed_day").count() == expected
    # In a quarter's last month the general meeting and the Party lecture are held too.
    assert Activity.objects.filter(kind__in=["general_meeting", "party_lecture"]).exists()
    # Three first gradings, three regrades and the two profiled, one run per committee each.
    committees = OrgUnit.objects.filter(kind=OrgUnit.Kind.COMMITTEE).count()
    assert GradingRun.objects.filter(month=MONTH, state="succeeded").count() == 8 * committees
    assert BranchScore.objects.filter(month=MONTH).count() == branches
    assert MemberScore.objects.filter(month=MONTH).exists()

    assert re.search(r"data: wrote 3,600 ledger entries \(12 per member\).* in \d+\.\d s", output)
    assert "summary (median of 3; target ≤ 2× the baseline):" in output, output
    for kind in ("first grading of fresh data", "regrade with changes"):
        assert re.search(
            rf"  {kind}: \d+\.\d\d s \| baseline \d+\.\d{{3}} s \| ratio \d+\.\d\d \| \d+\.\d µs a member", output
        ), output
    assert re.search(r"baseline GROUP BY in the database \d+\.\d{3} s \([\d,]+ rows\)", output)
    for kind in ("first grading of fresh data", "regrade without changes"):
        assert re.search(rf"phases of one {kind} \(\d+\.\d\d s\): watermark .* member upsert \d+\.\d\d s", output)
    assert re.search(r"board page \(\d+ branches, /grading/.*\?draft=1\): HTTP 200, \d+ queries, render", output)


def test_the_benchmark_reuses_a_month_that_is_already_written(member_a, member_x):
    requires_postgres()
    first = bench("--reuse", "--entries-per-member", "2", "--runs", "1")
    assert "data: wrote 4 ledger entries (2 per member)" in first

    # The first grading of fresh data and the phases' wrote one more entry a member each.
    assert LedgerEntry.objects.filter(month=MONTH, reason="").count() == 4 + 2 + 2

    second = bench("--reuse", "--entries-per-member", "2", "--runs", "1")
    assert re.search(r"data: 2025-03 already has \d+ ledger entries \(≥ 4\): not written", second)


def test_the_benchmark_refuses_an_existing_tree_without_reuse(tree):
    requires_postgres()
    with pytest.raises(CommandError, match="--reuse"):
        bench()


def test_the_default_month_is_the_previous_one():
    assert previous_month(datetime.date(2025, 1, 15)) == datetime.date(2024, 12, 1)
    assert previous_month(datetime.date(2025, 3, 1)) == datetime.date(2025, 2, 1)
