"""The home page: one per role, built from the apps' selectors."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone

from branches import selectors as branch_selectors
from branches.access import user_scope, visible_units
from branches.models import OrgUnit, RoleBinding
from members import selectors as member_selectors
from members.access import visible_members
from members.me.access import is_member_only
from members.models import Member

from . import panels, workbench

Role = RoleBinding.Role


def _member_counts(*, members, units, scope, top_units: list[OrgUnit]) -> dict[str, int]:
    """The current members under each top unit (``u0``, ``u1``, …), in all and on
    probation. The administrator's whole tree, or a secretary's branches: one aggregate
    over their members. Committee staff: the scope's units by id (one query), then one
    GROUP BY of their members summed here by path — the members' index on their unit
    reads only the scope's rows, where filtering on the units' paths joined and read
    every member of the tree (18–29 → 11–12 ms for two committees among 100,000)."""
    if scope.is_admin or not top_units:
        return members.filter(left_on__isnull=True).aggregate(
            **{f"u{i}": Count("pk", filter=Q(branch__path__startswith=unit.path)) for i, unit in enumerate(top_units)},
            total=Count("pk"),
            probationary=Count("pk", filter=Q(status=Member.Status.PROBATIONARY)),
        )
    paths = dict(units.values_list("pk", "path"))
    rows = (
        Member.objects.filter(left_on__isnull=True, branch_id__in=list(paths))
        .values("branch_id")
        .order_by()
        .annotate(n=Count("pk"), probationary=Count("pk", filter=Q(status=Member.Status.PROBATIONARY)))
    )
    counts = {f"u{i}": 0 for i in range(len(top_units))} | {"total": 0, "probationary": 0}
    for row in rows:
        counts["total"] += row["n"]
        counts["probationary"] += row["probationary"]
        for i, unit in enumerate(top_units):
            if paths[row["branch_id"]].startswith(unit.path):
                counts[f"u{i}"] += row["n"]
    return counts


@login_required
def home(request):
    scope = user_scope(request.user)
    today = timezone.localdate()
    if is_member_only(request.user):  # a member's login: their own page
        return redirect("me:home")
    if scope.is_empty:
        body = render_to_string("home_body.html", {"no_scope": True})
        return render(request, "home.html", {"body": body, "today": today, "scope": scope})
    # The content is kept under the data versions of what it read (partybuild/panels.py).
    body = panels.home_content(
        request=request, scope=scope, today=today, build=lambda: _home_context(request, scope=scope, today=today)
    )
    return render(request, "home.html", {"body": body, "today": today, "scope": scope})


def _home_context(request, *, scope, today) -> dict:
    units = visible_units(request.user)
    members = visible_members(request.user)
    context = {"today": today, "scope": scope}
    # Secretary: their branches at a glance. Committee and admin: the branches under them.
    secretary_branches = scope.units(Role.SECRETARY)
    overview_units = units.filter(kind=OrgUnit.Kind.BRANCH)
    counts = member_selectors.member_counts(units=OrgUnit.objects.filter(pk__in=[b.pk for b in secretary_branches]))
    if scope.is_admin:
        top_units = list(OrgUnit.objects.filter(parent__isnull=True).order_by("sort_order", "name"))
    else:
        top_units = scope.units(Role.COMMITTEE_STAFF)
    # The counts of every top unit and the totals: one aggregate over the branches and
    # one GROUP BY over the current members (each a single pass, not one per number).
    branch_counts = OrgUnit.objects.filter(kind=OrgUnit.Kind.BRANCH).aggregate(
        **{f"u{i}": Count("pk", filter=Q(path__startswith=unit.path)) for i, unit in enumerate(top_units)},
        total=Count("pk", filter=Q(pk__in=overview_units.values("pk"))),
    )
    member_counts = _member_counts(members=members, units=units, scope=scope, top_units=top_units)
    top_rows = [(unit, branch_counts[f"u{i}"], member_counts[f"u{i}"]) for i, unit in enumerate(top_units)]
    context.update(
        secretary_branches=[
            (b, counts.get(b.pk), branch_selectors.branch_current_term(branch=b)) for b in secretary_branches
        ],
        top_rows=top_rows,
        branch_total=branch_counts["total"],
        member_total=member_counts["total"],
        probationary_total=member_counts["probationary"],
        expiring=branch_selectors.terms_expiring(units=units, today=today, within_days=settings.TERM_REMINDER_DAYS)[
            :20
        ],
        missing_terms=branch_selectors.branches_without_term(units=units)[:20],
        conversions=member_selectors.conversions_due(members=members, today=today)[:20],
        # The workbench: what each role has to do today (partybuild/workbench.py); the
        # cards' forecasts are put in per request (partybuild/panels.py).
        secretary_panels=[
            workbench.secretary_panel(branch=b, today=today, forecast=False) for b in secretary_branches if b.is_branch
        ],
        committee_panels=workbench.committee_panels(
            committees=[c for c in scope.units(Role.COMMITTEE_STAFF) if c.is_committee], today=today, forecast=False
        ),
        overdue_terms=workbench.overdue_terms(units=units, today=today) if not secretary_branches else [],
        admin_panel=workbench.admin_panel() if scope.is_admin else None,
    )
    return context
