"""The logins a load run signs in with, made on the database it runs against.

The seeded data sets have one login per role (seed_demo's admin / committee /
secretary / member); a load run needs many: a secretary for each of a set of branches,
committee staff for the committees above them, and member logins for members of those
branches. They are made once (user names ``load-…`` and the members' employee numbers),
share one known password, and are found again on the next run. The plan — who works
where — is returned as plain data for the Locust scenario.
"""

import datetime
from dataclasses import asdict, dataclass, field
from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from branches.models import OrgUnit, RoleBinding
from branches.selectors import committees_for
from members.me.models import MemberLogin
from members.models import Member

PASSWORD = "partybuild-load"
PREFIX = "load-"


@dataclass
class Plan:
    password: str
    month: str  # YYYY-MM: the month the secretaries log and the committees grade
    today: str  # YYYY-MM-DD in the installation's time zone: activities are dated up to it
    secretaries: list[dict] = field(default_factory=list)  # {username, branch_id}
    committees: list[dict] = field(default_factory=list)  # {username, committee_id, branch_ids}
    members: list[dict] = field(default_factory=list)  # {username}

    def as_dict(self) -> dict:
        return asdict(self)


def _open_branches(count: int, month: datetime.date) -> list[OrgUnit]:
    """Branches with members whose committee's month is open, from the fewest committees
    (so a committee's staff grade branches the secretaries are writing to)."""
    branches = list(
        OrgUnit.objects.filter(kind=OrgUnit.Kind.BRANCH, dissolved_on__isnull=True)
        .annotate(n=Count("members", filter=Q(members__left_on__isnull=True)))
        .filter(n__gte=2)
        .order_by("path")
    )
    committees = committees_for(units=branches)
    closed = set(OrgUnit.objects.filter(months__month=month, months__state="closed").values_list("pk", flat=True))
    by_committee: dict[int, list[OrgUnit]] = {}
    for branch in branches:
        committee = committees.get(branch.pk)
        if committee is not None and committee.pk not in closed:
            by_committee.setdefault(committee.pk, []).append(branch)
    chosen: list[OrgUnit] = []
    # Round-robin over the committees with the most branches: several committees graded,
    # each with several branches written to.
    groups = sorted(by_committee.values(), key=len, reverse=True)[:4]
    while len(chosen) < count and any(groups):
        for group in groups:
            if group and len(chosen) < count:
                chosen.append(group.pop(0))
    return chosen


def _session(user) -> str:
    """A signed-in session for ``user``, as the login form would leave it."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


@transaction.atomic
def load_logins_ensure(
    *, secretaries: int = 20, members: int = 40, password: str = PASSWORD, sessions: bool = False
) -> Plan:
    """Make (or find) the load run's logins and return the plan. With ``sessions`` each
    login also gets a signed-in session, so a short run need not spend its time in the
    password hasher (the login form is measured by the full run)."""
    User = get_user_model()
    today = timezone.localdate()
    month = today.replace(day=1)
    hashed = make_password(password)
    branches = _open_branches(secretaries, month)
    if not branches:
        raise RuntimeError("no branch with members in an open month: seed the database first")
    committees = committees_for(units=branches)
    plan = Plan(password=password, month=f"{month:%Y-%m}", today=today.isoformat())

    def login(username: str, first_name: str):
        user, _ = User.objects.get_or_create(username=username, defaults={"first_name": first_name})
        user.password, user.is_active = hashed, True
        user.save(update_fields=["password", "is_active"])
        return user

    for n, branch in enumerate(branches, 1):
        user = login(f"{PREFIX}sec-{n}", f"负载测试书记{n}")
        RoleBinding.objects.get_or_create(user=user, role=RoleBinding.Role.SECRETARY, unit=branch)
        plan.secretaries.append({"username": user.username, "branch_id": branch.pk})
    staff: dict[int, list[int]] = {}
    for branch in branches:
        staff.setdefault(committees[branch.pk].pk, []).append(branch.pk)
    for n, (committee_id, branch_ids) in enumerate(sorted(staff.items()), 1):
        user = login(f"{PREFIX}com-{n}", f"负载测试党委{n}")
        RoleBinding.objects.get_or_create(user=user, role=RoleBinding.Role.COMMITTEE_STAFF, unit_id=committee_id)
        plan.committees.append({"username": user.username, "committee_id": committee_id, "branch_ids": branch_ids})
    people = list(
        Member.objects.filter(branch__in=branches, left_on__isnull=True)
        .exclude(user__role_bindings__isnull=False)
        .select_related("user")
        .order_by("branch_id", "pk")[: members * 3]
    )[::3][:members]
    for member in people:
        user = member.user
        if user is None:
            user = User.objects.filter(username__iexact=member.employee_no).first()
            if user is not None:
                continue  # the employee number is some other login's name: leave it be
            user = User.objects.create(username=member.employee_no, first_name=member.name[:150])
            member.user = user
            member.save(update_fields=["user", "updated_at"])
        user.password, user.is_active = hashed, True
        user.save(update_fields=["password", "is_active"])
        MemberLogin.objects.update_or_create(
            user=user,
            defaults={
                "must_change_password": False,
                "issued_at": timezone.now(),
                "password_changed_at": timezone.now(),
            },
        )
        plan.members.append({"username": user.username})
    if sessions:
        by_name = {u.username: u for u in User.objects.filter(username__in=_usernames(plan))}
        for person in [*plan.secretaries, *plan.committees, *plan.members]:
            person["session"] = _session(by_name[person["username"]])
    return plan


def _usernames(plan: Plan) -> list[str]:
    return [p["username"] for p in [*plan.secretaries, *plan.committees, *plan.members]]
