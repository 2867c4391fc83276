"""The page benchmark of issue 14 (``manage.py bench_pages``), on PostgreSQL.

``prepare`` makes the database in ``DATABASE_URL`` hold what the key pages need, and
only what is missing (run it on a copy of the 100k data set, never on a database that
matters): the previous month's entered scores, graded and published for one committee
of about 89 branches, the same month's draft for a committee of similar size (graded,
not published), an activity of this month with 150 attendees, and four logins with a
known password — an administrator, the committee's staff, the secretary of the
activity's branch and a member of it.

``run_load`` drives one page with N threads for a fixed time, each thread holding its
own keep-alive connection (``http.client``) and the role's session cookie, and keeps
every request's latency. The command prints requests/s, p50 and p95 per page next to
the trivial page (the login form, GET) measured in the same run, before and after the
pages, so a machine that slows down in between shows.
"""

import datetime
import http.client
import itertools
import re
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from branches.activities import services as activity_services
from branches.activities.models import Activity, Attendance
from branches.choices import ActivityKind, AttendanceStatus
from branches.grading import bench as grading_bench
from branches.grading.models import BranchScore, Publication
from branches.grading.publishing import board_publish, grid_branches
from branches.models import OrgUnit, RoleBinding
from branches.selectors import month_is_closed
from members.models import Member

PASSWORD = "bench-pages-Pa55word"
ATTENDEES = 150
BOARD_BRANCHES = 89
ACTIVITY_TITLE = "bench_pages: 150 attendees"

# Targets of issue 14.
PUBLISHED_BOARD_RATIO = 3.0  # requests/s of the trivial page ÷ of the published board
P95_RATIO = 10.0  # any page's p95 ÷ the trivial page's p95


@dataclass
class Logins:
    admin: str
    committee: str
    secretary: str
    member: str


@dataclass
class Scenario:
    month: datetime.date  # the published month (last month)
    published: OrgUnit
    draft: OrgUnit
    draft_month: datetime.date
    branch: OrgUnit  # the activity's branch, under ``published``'s committee or not
    activity: Activity
    member: Member
    logins: Logins
    attendance_ids: list[int] = field(default_factory=list)


def _user(username: str, *, superuser: bool = False):
    User = get_user_model()
    user, _created = User.objects.get_or_create(username=username, defaults={"is_superuser": superuser})
    user.set_password(PASSWORD)
    user.is_active = True
    user.is_superuser = superuser
    user.is_staff = superuser
    user.save()
    return user


def _bind(user, role: str, unit: OrgUnit | None) -> None:
    if not RoleBinding.objects.filter(user=user, role=role, unit=unit).exists():
        RoleBinding.objects.create(user=user, role=role, unit=unit)


def committees_near(*, month: datetime.date, size: int) -> list[tuple[OrgUnit, int]]:
    """Committees by how close their graded branch count is to ``size``."""
    sized = [(c, len(grid_branches(committee=c, month=month))) for c in grading_bench.committees()]
    return sorted(sized, key=lambda cn: (abs(cn[1] - size), cn[0].pk))


def _grade(committee: OrgUnit, month: datetime.date, user) -> None:
    if not BranchScore.objects.filter(committee=committee, month=month).exists():
        grading_bench.grade_month(month=month, committees=[committee], user=user)


def prepare(*, say: Callable[[str], None]) -> Scenario:
    today = timezone.localdate()
    this_month = today.replace(day=1)
    month = grading_bench.previous_month(today)
    admin = _user("bench_admin", superuser=True)
    _bind(admin, RoleBinding.Role.ADMIN, None)
    if not grading_bench.entries_in_month(month=month):
        raise LookupError(f"{month:%Y-%m} has no ledger entries: run on the 100k data set (seed_demo --members …)")
    grading_bench.insert_score_inputs(month=month, user_id=admin.pk)
    ranked = committees_near(month=month, size=BOARD_BRANCHES)
    (published, n_pub), (draft, n_draft) = ranked[0], ranked[1]
    say(f"setup: published board {published.name} ({n_pub} branches), draft board {draft.name} ({n_draft} branches)")
    _grade(published, month, admin)
    if not Publication.objects.filter(committee=published, month=month).exists():
        board_publish(committee=published, month=month, user=admin, note="bench_pages")
    _grade(draft, month, admin)

    committee_user = _user("bench_committee")
    _bind(committee_user, RoleBinding.Role.COMMITTEE_STAFF, published)
    _bind(committee_user, RoleBinding.Role.COMMITTEE_STAFF, draft)
    # The activity's branch: the largest branch under the published committee (its
    # month of this month is open), topped up with members of its neighbours to 150.
    branch_ids = [b.pk for b in grid_branches(committee=published, month=month)]
    branch_id = (
        Member.objects.filter(branch_id__in=branch_ids, left_on__isnull=True)
        .values("branch_id")
        .annotate(n=Count("id"))
        .order_by("-n", "branch_id")[0]["branch_id"]
    )
    branch = OrgUnit.objects.get(pk=branch_id)
    secretary = _user("bench_secretary")
    _bind(secretary, RoleBinding.Role.SECRETARY, branch)
    activity = _activity(branch=branch, date=today, user=secretary)
    if month_is_closed(committee=published, month=this_month):
        raise LookupError(f"{this_month:%Y-%m} is closed for {published.name}: the attendance click would be refused")
    member = Member.objects.filter(branch=branch, left_on__isnull=True).order_by("employee_no").first()
    member_user = _member_login(member)
    scenario = Scenario(
        month=month,
        published=published,
        draft=draft,
        draft_month=month,
        branch=branch,
        activity=activity,
        member=member,
        logins=Logins("bench_admin", "bench_committee", "bench_secretary", member_user.username),
    )
    scenario.attendance_ids = list(
        Attendance.objects.filter(activity=activity, member__branch=branch).values_list("pk", flat=True)
    )
    return scenario


@transaction.atomic
def _activity(*, branch: OrgUnit, date: datetime.date, user) -> Activity:
    activity = Activity.objects.filter(branch=branch, title=ACTIVITY_TITLE).first()
    if activity is None:
        activity = activity_services.activity_create(
            branch=branch, kind=ActivityKind.PARTY_LECTURE, title=ACTIVITY_TITLE, date=date, user=user
        )
    have = activity.attendances.count()
    if have < ATTENDEES:
        # Guests from other branches (a joint lecture): attendance rows only.
        guests = (
            Member.objects.filter(left_on__isnull=True)
            .exclude(branch=branch)
            .exclude(attendances__activity=activity)
            .order_by("pk")
            .values_list("pk", flat=True)[: ATTENDEES - have]
        )
        Attendance.objects.bulk_create(
            [Attendance(activity=activity, member_id=pk, status=AttendanceStatus.PRESENT) for pk in guests]
        )
    return activity


def _member_login(member: Member):
    from members.me.models import MemberLogin

    user = member.user or _user(f"bench_member_{member.pk}")
    if member.user_id is None:
        member.user = user
        member.save(update_fields=["user"])
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    MemberLogin.objects.update_or_create(
        user=user,
        defaults={"must_change_password": False, "issued_at": timezone.now(), "password_changed_at": timezone.now()},
    )
    return user


# --- the pages --------------------------------------------------------------------------------


@dataclass
class Page:
    name: str
    role: str  # "" for anonymous
    path: str
    method: str = "GET"
    # For the attendance click: the POST body of the n-th request.
    body: Callable[[int], tuple[str, dict]] | None = None
    target: str = "p95"  # "published" for the published board's rps target


def pages(s: Scenario) -> list[Page]:
    m = s.month
    board = reverse("grading:board", args=[s.published.pk, m.year, m.month])
    draft = reverse("grading:board", args=[s.draft.pk, s.draft_month.year, s.draft_month.month]) + "?draft=1"
    activity = s.activity
    name = s.member.name[:1]
    ids = s.attendance_ids
    counter = itertools.count()
    lock = threading.Lock()

    def click(_n: int) -> tuple[str, dict]:
        with lock:
            n = next(counter)
        # Each pass over the rows sets them all late, the next pass present again.
        status = (AttendanceStatus.LATE, AttendanceStatus.PRESENT)[(n // len(ids)) % 2]
        path = reverse("activities:attendance", args=[activity.pk, ids[n % len(ids)]])
        return path, {"status": status}

    roster = reverse("members:roster") + "?" + urlencode({"q": name})
    return [
        Page("board published (secretary)", "secretary", board, target="published"),
        Page("board published (committee)", "committee", board),
        Page("board draft (committee)", "committee", draft),
        Page("roster search (committee)", "committee", roster),
        Page(
            "branch ledger month",
            "secretary",
            reverse("ledger:branch_month", args=[s.branch.pk, m.year, m.month]),
        ),
        Page("member ledger", "secretary", reverse("ledger:member_ledger", args=[s.member.pk])),
        Page("activity, 150 attendees", "secretary", reverse("activities:detail", args=[activity.pk])),
        Page(
            "compliance matrix, all branches (admin)",
            "admin",
            reverse("activities:compliance_matrix", args=[_root().pk]),
        ),
        Page("home (admin)", "admin", reverse("home")),
        Page("home (committee)", "committee", reverse("home")),
        Page("home (secretary)", "secretary", reverse("home")),
        Page("home (member: their own page)", "member", reverse("me:home")),
        Page("attendance click (htmx POST)", "secretary", "", method="POST", body=click),
    ]


def _root() -> OrgUnit:
    return OrgUnit.objects.filter(parent__isnull=True).order_by("pk").first()


# --- the load ---------------------------------------------------------------------------------


class Session:
    """One user's cookies over one keep-alive connection."""

    def __init__(self, host: str, port: int, cookies: dict[str, str] | None = None):
        self.host, self.port = host, port
        self.cookies = dict(cookies or {})
        self.conn = http.client.HTTPConnection(host, port, timeout=120)

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        head = {"Host": f"{self.host}:{self.port}", "Connection": "keep-alive"}
        if self.cookies:
            head["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body)
            head["Content-Type"] = "application/x-www-form-urlencoded"
        if method == "POST" and "csrftoken" in self.cookies:
            head["X-CSRFToken"] = self.cookies["csrftoken"]
            head["Referer"] = f"http://{self.host}:{self.port}/"
        head.update(headers or {})
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=data, headers=head)
                response = self.conn.getresponse()
                content = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
                if attempt:
                    raise
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _sep, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, content

    def close(self):
        self.conn.close()


def login(host: str, port: int, username: str) -> dict[str, str]:
    session = Session(host, port)
    status, content = session.request("GET", reverse("login"))
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', content)
    if status != 200 or token is None:
        raise RuntimeError(f"login page: HTTP {status}")
    status, _content = session.request(
        "POST",
        reverse("login"),
        body={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1).decode()},
    )
    if status != 302 or "sessionid" not in session.cookies:
        raise RuntimeError(f"login of {username}: HTTP {status}, not redirected")
    session.close()
    return session.cookies


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    latencies: list[float]
    errors: int
    statuses: dict[int, int]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: int) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[q - 1]

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p95(self) -> float:
        return self.percentile(95)


def run_load(
    *, host: str, port: int, page: Page, cookies: dict[str, str], users: int, seconds: float, warmup: float = 1.0
) -> Result:
    """``users`` threads request ``page`` back to back for ``seconds`` (after ``warmup``
    seconds not counted); every status other than 200 counts as an error."""
    start = time.perf_counter()
    measure_from = start + warmup
    stop = measure_from + seconds
    latencies: list[float] = []
    ends: list[float] = []
    statuses: dict[int, int] = {}
    errors = [0]
    lock = threading.Lock()
    headers = {"HX-Request": "true"} if page.method == "POST" else {}

    def worker(i: int) -> None:
        session = Session(host, port, cookies)
        local: list[float] = []
        last = 0.0
        local_status: dict[int, int] = {}
        local_errors = 0
        n = i
        try:
            while True:
                began = time.perf_counter()
                if began >= stop:
                    break
                path, body = page.body(n) if page.body else (page.path, None)
                n += users
                try:
                    status, _content = session.request(page.method, path, body=body, headers=headers)
                except Exception:
                    status = 0
                ended = time.perf_counter()
                # Counted: every request started in the window, to its end.
                if began >= measure_from:
                    local.append(ended - began)
                    last = ended
                    local_status[status] = local_status.get(status, 0) + 1
                    local_errors += status != 200
        finally:
            session.close()
        with lock:
            latencies.extend(local)
            ends.append(last)
            for k, v in local_status.items():
                statuses[k] = statuses.get(k, 0) + v
            errors[0] += local_errors

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = max([*ends, stop]) - measure_from
    return Result(page.name, len(latencies), elapsed, latencies, errors[0], statuses)
