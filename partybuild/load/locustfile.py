"""The Locust scenario of ``make load``: the month-end crowd on one installation.

Run by ``manage.py load_run`` (which starts the stack and writes the plan); on its own:
``LOAD_PLAN=plan.json locust -f partybuild/load/locustfile.py --host http://127.0.0.1:8000``.
The plan (``partybuild.load.setup``) names the logins and where each works. Requests are
named by route, not by URL, so the figures add up per endpoint.

* Secretaries log activities (the form, as a browser posts it) and click attendance
  in the grid (htmx POSTs, the row swapped back), and read their activity and ledger.
* Committee staff enter committee scores (htmx POSTs per cell), start grading runs
  (a real Celery worker grades) and watch their progress, and read the boards.
* Members read their own pages.

Anything but a 2xx (after redirects) is a failure, and so is a page that did not say
what it should (an htmx row without its buttons, a run that ended failed).
"""

import itertools
import json
import os
import random
import re
import threading
from decimal import Decimal

from locust import HttpUser, between, events, task

PLAN: dict = {}
ATTENDANCE = re.compile(r"/activities/(\d+)/attendance/(\d+)/")
ACTIVITY = re.compile(r"/activities/(\d+)/$")
STATUSES = ("present", "late", "excused", "absent")
# Meetings, and training with class hours (its points are per hour and capped).
KINDS = (
    ("committee_meeting", None),
    ("themed_day", None),
    ("party_lecture", "1.5"),
    ("training", "2"),
    ("general_meeting", None),
)
DIMENSIONS = ("committee_work", "production", "other")
_lock = threading.Lock()
_counters: dict[str, itertools.count] = {}


@events.init.add_listener
def _load_plan(environment, **kwargs):
    path = os.environ.get("LOAD_PLAN")
    if path:
        with open(path, encoding="utf-8") as handle:
            PLAN.update(json.load(handle))


def _next(role: str) -> dict:
    """Hand out the plan's logins of a role in turn (several users may share one)."""
    with _lock:
        counter = _counters.setdefault(role, itertools.count())
        people = PLAN[role]
        return people[next(counter) % len(people)]


class PartyBuildUser(HttpUser):
    abstract = True
    wait_time = between(1, 4)
    role = ""

    def on_start(self):
        self.person = _next(self.role)
        if self.person.get("session"):  # signed in beforehand (the short CI run)
            self.client.cookies.set("sessionid", self.person["session"])
            self.client.get("/", name="GET / (workbench)")
            return
        self.client.get("/accounts/login/", name="GET /accounts/login/")
        with self.client.post(
            "/accounts/login/",
            data={
                "username": self.person["username"],
                "password": PLAN["password"],
                "csrfmiddlewaretoken": self.client.cookies.get("csrftoken", ""),
            },
            headers={"Referer": f"{self.host}/accounts/login/"},
            name="POST /accounts/login/",
            catch_response=True,
        ) as response:
            if "sessionid" not in self.client.cookies:
                response.failure(f"{self.person['username']} could not sign in")

    def post(self, url: str, data: dict, *, name: str, htmx: bool = False, **kwargs):
        headers = {"X-CSRFToken": self.client.cookies.get("csrftoken", ""), "Referer": f"{self.host}{url}"}
        if htmx:
            headers["HX-Request"] = "true"
        return self.client.post(url, data=data, headers=headers, name=name, **kwargs)

    def save_in_place(self, url: str, data: dict, *, name: str, refused: str, why: str) -> None:
        """An htmx save: a 200 whose fragment carries ``refused`` is a failure too (the
        app shows a refused save in place, with the status of a success)."""
        with self.post(url, data, name=name, htmx=True, catch_response=True) as response:
            if response.ok and refused in response.text:
                response.failure(why)

    @property
    def year_month(self) -> tuple[str, str]:
        year, month = PLAN["month"].split("-")
        return year, month


class Secretary(PartyBuildUser):
    role = "secretaries"
    weight = 5

    def on_start(self):
        super().on_start()
        self.activities: dict[int, list[int]] = {}

    @task(1)
    def log_activity(self):
        branch = self.person["branch_id"]
        self.client.get(f"/activities/new/?branch={branch}", name="GET /activities/new/")
        kind, hours = random.choice(KINDS)
        year, month = self.year_month
        # A day of this month up to today (the plan's, in the installation's time zone).
        day = random.randint(1, int(PLAN["today"][8:10]))
        data = {
            "branch": branch,
            "kind": kind,
            "title": f"负载测试活动 {random.randint(1, 10**6)}",
            "date": f"{year}-{month}-{day:02d}",
            "place": "会议室",
            "host": "书记",
            "class_hours": hours or "",
            "minutes": "",
        }
        with self.post("/activities/new/", data, name="POST /activities/new/", catch_response=True) as response:
            found = ACTIVITY.search(response.url or "")
            if response.ok and not found:
                response.failure("the activity form came back instead of the activity")
                return
        if found:
            self.activities[int(found.group(1))] = [int(a) for _, a in ATTENDANCE.findall(response.text)]

    @task(6)
    def click_attendance(self):
        if not self.activities:
            return self.log_activity()
        activity, attendances = random.choice(list(self.activities.items()))
        if not attendances:
            return
        attendance = random.choice(attendances)
        status = random.choice(STATUSES)
        self.save_in_place(
            f"/activities/{activity}/attendance/{attendance}/",
            {"status": status},
            name="POST /activities/[id]/attendance/[id]/ (htmx)",
            refused='role="alert"',
            why="the attendance row came back with an error",
        )

    @task(2)
    def read_activity(self):
        if not self.activities:
            return
        activity = random.choice(list(self.activities))
        self.client.get(f"/activities/{activity}/", name="GET /activities/[id]/")

    @task(1)
    def read_branch_ledger(self):
        self.client.get(f"/ledger/branches/{self.person['branch_id']}/", name="GET /ledger/branches/[id]/")

    @task(1)
    def workbench(self):
        self.client.get("/", name="GET / (workbench)")


class CommitteeStaff(PartyBuildUser):
    role = "committees"
    weight = 2

    @task(5)
    def enter_score(self):
        year, month = self.year_month
        branch = random.choice(self.person["branch_ids"])
        dimension = random.choice(DIMENSIONS)
        score = Decimal(random.randint(6000, 10000)) / 100
        self.save_in_place(
            f"/grading/inputs/{branch}/{year}/{month}/{dimension}/",
            {"score": str(score)},
            name="POST /grading/inputs/[branch]/[month]/[dimension]/ (htmx)",
            refused="cell-error",
            why="the score was refused",
        )

    @task(1)
    def score_grid(self):
        year, month = self.year_month
        self.client.get(
            f"/grading/{self.person['committee_id']}/{year}/{month}/inputs/", name="GET /grading/[c]/[month]/inputs/"
        )

    @task(1)
    def start_grading(self):
        committee = self.person["committee_id"]
        self.client.get(f"/grading/{committee}/runs/", name="GET /grading/[c]/runs/")
        with self.post(
            f"/grading/{committee}/runs/",
            {"month": PLAN["month"]},
            name="POST /grading/[c]/runs/",
            catch_response=True,
        ) as response:
            found = re.search(r"/grading/runs/(\d+)/", response.url or "")
            if response.ok and not found:
                response.failure("no run was started")
                return
        if not found:
            return
        # Watch the progress bar as the page does (htmx, every second) for a while.
        for _ in range(5):
            self.wait()
            with self.client.get(
                f"/grading/runs/{found.group(1)}/progress/",
                headers={"HX-Request": "true"},
                name="GET /grading/runs/[id]/progress/ (htmx)",
                catch_response=True,
            ) as progress:
                if 'data-state="failed"' in progress.text:
                    progress.failure("the grading run failed")
                if 'data-state="succeeded"' in progress.text or 'data-state="failed"' in progress.text:
                    break

    @task(3)
    def read_board(self):
        year, month = self.year_month
        self.client.get(
            f"/grading/{self.person['committee_id']}/{year}/{month}/", name="GET /grading/[c]/[month]/ (board)"
        )


class Member(PartyBuildUser):
    role = "members"
    weight = 3

    @task(2)
    def home(self):
        self.client.get("/me/", name="GET /me/")

    @task(2)
    def points(self):
        self.client.get("/me/points/", name="GET /me/points/")

    @task(1)
    def board(self):
        self.client.get("/me/board/", name="GET /me/board/")
