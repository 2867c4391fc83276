"""The workbench in the demo: what the seeded months do not already give each role.

The months of organisational life, the grading loop and the reviews leave the secretary
and committee staff plenty to do (requirements, 政治生日, training behind pace, a draft
to publish, talks due, overdue terms). The administrator's panel needs a login still
waiting for a role and a report job in its history: an XLSX a committee asked for
earlier, since expired (its file deleted, as ``reports_expire`` does)."""

import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from branches.models import OrgUnit
from branches.reports.models import ReportFile
from branches.reports.services import report_filename

WAITING_USERNAME = "newcomer"  # in seed_demo's DEMO_USERNAMES, so --reset removes it


def seed_workbench(*, committee: OrgUnit, staffer) -> dict[str, int]:
    # No password: an account made ahead of its role, not a demo login.
    get_user_model().objects.create_user(WAITING_USERNAME, password=None, first_name="新入职干事")
    now = timezone.now()
    year = timezone.localdate().year
    ReportFile.objects.create(
        committee=committee,
        year=year,
        format=ReportFile.Format.XLSX,
        state=ReportFile.State.EXPIRED,
        progress=100,
        filename=report_filename(committee=committee, year=year, fmt=ReportFile.Format.XLSX),
        requested_by=staffer,
        finished_at=now - datetime.timedelta(days=3),
        expires_at=now - datetime.timedelta(days=2),
    )
    return {"users": 1, "reports": 1}
