"""Reads for projects and challenges: lists with their counts in one query, the year's
value by branch and committee (SQL aggregates), the timeline of a project."""

import datetime
from decimal import Decimal

from django.db.models import Count, DecimalField, Exists, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from branches.models import OrgUnit
from members.ledger.models import LedgerEntry, Source

from .models import (
    Challenge,
    ChallengeClaim,
    Milestone,
    Project,
    ProjectKind,
    ProjectSettings,
    ProjectTransition,
    ValueRecord,
)

ZERO = Value(Decimal("0"), output_field=DecimalField(max_digits=14, decimal_places=2))


def kinds_for(*, committee: OrgUnit | None) -> QuerySet[ProjectKind]:
    """The default kinds and those of ``committee`` and the committees above it."""
    ids = [committee.pk, *committee.ancestor_ids()] if committee is not None else []
    return ProjectKind.objects.filter(Q(committee__isnull=True) | Q(committee_id__in=ids))


def _value_total(*, year: int | None = None):
    records = ValueRecord.objects.filter(project=OuterRef("pk"))
    if year is not None:
        records = records.filter(month__year=year)
    return Coalesce(Subquery(records.order_by().values("project").annotate(total=Sum("amount")).values("total")), ZERO)


def _co_projects(branch: OrgUnit):
    # A subquery, not a join: a join with the co-branches would multiply the counts.
    return Project.co_branches.through.objects.filter(orgunit=branch).values("project_id")


def overdue_milestones(*, today: datetime.date) -> QuerySet[Milestone]:
    return Milestone.objects.filter(due_on__lt=today, project__state=Project.State.ACTIVE).exclude(
        state=Milestone.State.ACCEPTED
    )


def project_list(
    *,
    projects: QuerySet[Project],
    today: datetime.date,
    state: str = "",
    kind: ProjectKind | None = None,
    branch: OrgUnit | None = None,
    year: int | None = None,
    overdue: bool = False,
) -> QuerySet[Project]:
    """Projects with their kind, branch and leader, how many milestones are overdue and
    the value created so far — one query."""
    overdue_q = Q(milestones__due_on__lt=today, state=Project.State.ACTIVE) & ~Q(
        milestones__state=Milestone.State.ACCEPTED
    )
    rows = projects.select_related("kind", "branch", "leader", "committee").annotate(
        overdue_count=Count("milestones", filter=overdue_q),
        milestone_count=Count("milestones"),
        value_total=_value_total(),
    )
    if state:
        rows = rows.filter(state=state)
    if kind is not None:
        rows = rows.filter(kind=kind)
    if branch is not None:
        rows = rows.filter(Q(branch__path__startswith=branch.path) | Q(pk__in=_co_projects(branch)))
    if year is not None:
        rows = rows.filter(year=year)
    if overdue:
        rows = rows.filter(Exists(overdue_milestones(today=today).filter(project=OuterRef("pk"))))
    return rows.order_by("-year", "branch__path", "pk")


def branch_projects(*, branch: OrgUnit) -> QuerySet[Project]:
    """The projects a branch leads or works on, newest first, with the value created."""
    return (
        Project.objects.filter(Q(branch=branch) | Q(pk__in=_co_projects(branch)))
        .select_related("kind", "leader")
        .annotate(value_total=_value_total())
        .order_by("-year", "-pk")
    )


def projects_by_state(*, projects: QuerySet[Project]) -> dict[str, int]:
    rows = projects.order_by().values("state").annotate(n=Count("pk"))
    counts = {row["state"]: row["n"] for row in rows}
    return {state: counts.get(state, 0) for state in Project.State.values}


def value_by_branch(*, committee: OrgUnit, year: int) -> list[dict]:
    """Value created in ``year`` by the projects each branch leads, in the committee's
    subtree: one GROUP BY."""
    return list(
        ValueRecord.objects.filter(project__branch__path__startswith=committee.path, month__year=year)
        .order_by()
        .values("project__branch_id", "project__branch__name", "project__branch__path")
        .annotate(total=Sum("amount"), projects=Count("project", distinct=True))
        .order_by("project__branch__path")
    )


def value_of_year(*, committee: OrgUnit, year: int) -> Decimal:
    total = ValueRecord.objects.filter(project__branch__path__startswith=committee.path, month__year=year).aggregate(
        total=Sum("amount")
    )["total"]
    return total or Decimal("0")


def value_by_month(*, committee: OrgUnit, year: int) -> list[dict]:
    return list(
        ValueRecord.objects.filter(project__branch__path__startswith=committee.path, month__year=year)
        .order_by()
        .values("month")
        .annotate(total=Sum("amount"))
        .order_by("month")
    )


def year_projects(*, committee: OrgUnit, year: int, branch: OrgUnit | None = None) -> QuerySet[Project]:
    """The projects of the committee's subtree (or led by ``branch``) that belong to
    ``year`` or created value in it, past their approval, with the value of that year —
    the year-end report's rows."""
    projects = Project.objects.filter(branch__path__startswith=committee.path)
    if branch is not None:
        projects = projects.filter(branch=branch)
    in_year = ValueRecord.objects.filter(month__year=year).values("project_id")
    return (
        projects.filter(Q(year=year) | Q(pk__in=in_year))
        .exclude(state__in=[Project.State.DRAFT, Project.State.RETURNED, Project.State.SUBMITTED])
        .select_related("kind", "branch", "leader", "committee")
        .annotate(value_year=_value_total(year=year))
        .order_by("branch__path", "pk")
    )


def project_points(*, project: Project) -> list[dict]:
    """The points the project's steps stand at, by step and member (net of reversals)."""
    return list(
        LedgerEntry.objects.filter(source=Source.PROJECT, source_id=project.pk)
        .order_by()
        .values("source_key", "member_id", "member__name", "rule__name")
        .annotate(total=Sum("points"))
        .order_by("source_key", "member__name")
    )


def project_entries(*, project: Project) -> QuerySet[LedgerEntry]:
    return (
        LedgerEntry.objects.filter(source=Source.PROJECT, source_id=project.pk)
        .select_related("member", "rule")
        .order_by("recorded_at", "pk")
    )


def project_transitions(*, project: Project) -> QuerySet[ProjectTransition]:
    return project.transitions.select_related("user", "milestone").order_by("at", "pk")


def challenge_board(*, challenges: QuerySet[Challenge]) -> QuerySet[Challenge]:
    return (
        challenges.select_related("committee", "kind")
        .annotate(claim_count=Count("claims"))
        .order_by("state", "deadline", "-pk")
    )


def challenge_claims(*, challenge: Challenge) -> QuerySet[ChallengeClaim]:
    return challenge.claims.select_related("branch", "leader", "claimed_by").order_by("claimed_at", "pk")


def approval_queue(*, committee: OrgUnit) -> tuple[QuerySet[Project], QuerySet[Milestone]]:
    """Applications submitted and milestones submitted for acceptance, of projects the
    committee (or one below it) approves."""
    projects = (
        Project.objects.filter(committee__path__startswith=committee.path, state=Project.State.SUBMITTED)
        .select_related("kind", "branch", "leader")
        .order_by("pk")
    )
    milestones = (
        Milestone.objects.filter(
            project__committee__path__startswith=committee.path,
            project__state=Project.State.ACTIVE,
            state=Milestone.State.SUBMITTED,
        )
        .select_related("project__branch")
        .order_by("due_on", "pk")
    )
    return projects, milestones


def evaluation_rows(*, committee: OrgUnit, year: int) -> QuerySet[Project]:
    """Projects of the year awaiting or holding their grade."""
    return (
        Project.objects.filter(
            committee__path__startswith=committee.path,
            year=year,
            state__in=[Project.State.CONCLUDED, Project.State.EVALUATED],
        )
        .select_related("kind", "branch", "leader")
        .annotate(value_total=_value_total())
        .order_by("branch__path", "pk")
    )


def grade_names_by_committee(*, committee_ids: set[int]) -> dict[int, dict[int, str]]:
    """What each committee calls its three grades (the defaults where it has not said)."""
    names = {s.committee_id: s.grade_names() for s in ProjectSettings.objects.filter(committee_id__in=committee_ids)}
    default = ProjectSettings().grade_names()
    return {pk: names.get(pk, default) for pk in committee_ids}


def grade_label(project: Project, names: dict[int, dict[int, str]]) -> str:
    return names[project.committee_id][project.grade] if project.grade else ""
