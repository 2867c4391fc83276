"""A project's pages: the list, the application form, the project page with its
timeline, and the POSTs of its workflow (moves, team, targets, milestones, value)."""

from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

import branches.converters  # noqa: F401  (importing registers the path converters)
from branches.access import can_write_unit, visible_units, writable_branches
from branches.forms import call_service
from branches.models import OrgUnit
from branches.pages import service_form_page, stored_file_response
from branches.selectors import committees_for
from members.access import visible_members
from members.models import Member

from .. import selectors, services
from ..access import committees_managed, get_project_for_user, is_committee_of, visible_projects
from ..forms import (
    ConcludeForm,
    MilestoneForm,
    ProjectFilterForm,
    ProjectForm,
    ProjectMemberForm,
    TargetForm,
    ValueRecordForm,
)
from ..models import Milestone, Project, ProjectKind, ProjectMember, ValueRecord
from ..workflow import (
    COMMITTEE_MOVES,
    EDITABLE,
    MILESTONE_MOVES,
    PICK,
    PROJECT_MOVES,
    RUNNING,
    milestone_moves_from,
    project_moves_from,
)
from .common import next_or, report_postings, report_refusal


@login_required
def project_list(request):
    projects = visible_projects(request.user)
    units = visible_units(request.user)
    form = ProjectFilterForm(
        request.GET or None,
        kinds=ProjectKind.objects.filter(Q(committee__isnull=True) | Q(committee__in=units)),
        branches=units.filter(kind=OrgUnit.Kind.BRANCH, dissolved_on__isnull=True),
    )
    filters = form.cleaned_data if form.is_valid() else {}
    today = timezone.localdate()
    rows = selectors.project_list(
        projects=projects,
        today=today,
        state=filters.get("state") or "",
        kind=filters.get("kind"),
        branch=filters.get("branch"),
        year=filters.get("year"),
        overdue=bool(filters.get("overdue")),
    )
    page = Paginator(rows, settings.ROSTER_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "projects/project_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "committees": committees_managed(request.user).order_by("path"),
            "can_create": writable_branches(request.user).exists(),
            "year": today.year,
        },
    )


def _form_choices(user, *, branch: OrgUnit | None = None):
    """What the application form offers: the user's writable branches, the kinds and
    co-operating branches of their committees, members of those branches."""
    branches = writable_branches(user) if branch is None else OrgUnit.objects.filter(pk=branch.pk)
    committees = {c.pk: c for c in committees_for(units=list(branches)).values() if c}
    co_branches = OrgUnit.objects.none()
    kinds = selectors.kinds_for(committee=None)
    for committee in committees.values():
        co_branches |= OrgUnit.objects.filter(
            kind=OrgUnit.Kind.BRANCH, dissolved_on__isnull=True, path__startswith=committee.path
        )
        kinds |= selectors.kinds_for(committee=committee)
    members = Member.objects.filter(branch__in=branches, left_on__isnull=True).order_by("branch__path", "name")
    return {
        "branches": branches,
        "kinds": kinds.distinct(),
        "co_branches": co_branches.distinct(),
        "members": members,
    }


@login_required
def project_create(request):
    if not writable_branches(request.user).exists():
        raise PermissionDenied
    form = ProjectForm(request.POST or None, **_form_choices(request.user))
    return service_form_page(
        request,
        form,
        service=services.project_create,
        user=request.user,
        success=_("The application was saved as a draft. Add targets and milestones, then submit it."),
        template="projects/project_form.html",
        context={"title": _("Apply for a project")},
    )


@login_required
def project_edit(request, pk: int):
    project = get_project_for_user(request.user, pk, write=True)
    if project.state not in EDITABLE:
        raise PermissionDenied
    fields = ("kind", "title", "field", "year", "leader", "description", "budget", "reward")
    initial = {name: getattr(project, name) for name in fields} | {"co_branches": list(project.co_branches.all())}
    choices = _form_choices(request.user, branch=project.branch)
    form = ProjectForm(request.POST or None, initial=initial, project=project, **choices)
    return service_form_page(
        request,
        form,
        service=services.project_update,
        project=project,
        user=request.user,
        success=_("Saved."),
        template="projects/project_form.html",
        context={"project": project, "title": _("Edit %(title)s") % {"title": project.title}},
    )


MOVE_LABELS = {move.name: move.label for move in (*PROJECT_MOVES, *MILESTONE_MOVES, PICK)}


def _labelled(transitions) -> list:
    rows = list(transitions)
    for row in rows:
        row.label = MOVE_LABELS.get(row.move, row.move)
    return rows


def _allowed_moves(moves, *, can_write: bool, can_committee: bool):
    return [m for m in moves if (can_committee if m.name in COMMITTEE_MOVES else can_write)]


@login_required
def project_detail(request, pk: int):
    project = get_project_for_user(request.user, pk)
    can_committee = is_committee_of(request.user, project.committee)
    can_write = can_write_unit(request.user, project.branch)
    milestones = list(project.milestones.select_related("accepted_by"))
    today = timezone.localdate()
    running = project.state in RUNNING
    for milestone in milestones:
        milestone.moves = (
            _allowed_moves(milestone_moves_from(milestone.state), can_write=can_write, can_committee=can_committee)
            if running
            else []
        )
        milestone.overdue = running and milestone.due_on < today and milestone.state != Milestone.State.ACCEPTED
    values = list(project.value_records.select_related("recorded_by"))
    entries = list(selectors.project_entries(project=project))
    editable_team = can_write and project.state not in (Project.State.CONCLUDED, Project.State.EVALUATED)
    team_members = Member.objects.filter(
        branch__in=[project.branch_id, *project.co_branches.values_list("pk", flat=True)], left_on__isnull=True
    ).order_by("name")
    linked_members = set(
        visible_members(request.user).filter(pk__in={e.member_id for e in entries}).values_list("pk", flat=True)
    )
    return render(
        request,
        "projects/project_detail.html",
        {
            "project": project,
            "co_branches": list(project.co_branches.all()),
            "team": list(project.members.select_related("member__branch")),
            "targets": list(project.targets.all()),
            "milestones": milestones,
            "values": values,
            "value_total": sum((v.amount for v in values), start=Decimal("0")),
            "transitions": _labelled(selectors.project_transitions(project=project)),
            "entries": entries,
            "linked_members": linked_members,
            "moves": _allowed_moves(
                project_moves_from(project.state), can_write=can_write, can_committee=can_committee
            ),
            "grade_names": services.grade_names(committee=project.committee),
            "can_write": can_write,
            "can_committee": can_committee,
            "editable": can_write and project.state in EDITABLE,
            "editable_team": editable_team,
            "running": running and can_write,
            "member_form": ProjectMemberForm(members=team_members) if editable_team else None,
            "target_form": TargetForm() if editable_team else None,
            "milestone_form": MilestoneForm() if editable_team else None,
            "value_form": ValueRecordForm() if running and can_write else None,
            "conclude_form": ConcludeForm() if running and can_write else None,
        },
    )


MOVE_SERVICES = {
    "submit": lambda project, user, data: services.project_submit(project=project, user=user),
    "approve": lambda project, user, data: services.project_approve(
        project=project, user=user, reason=data.get("reason", "")
    ),
    "return": lambda project, user, data: services.project_return(
        project=project, user=user, reason=data.get("reason", "")
    ),
    "conclude": lambda project, user, data: services.project_conclude(
        project=project, user=user, results=data.get("results", "")
    ),
    "evaluate": lambda project, user, data: services.project_evaluate(
        project=project, user=user, grade=int(data["grade"]) if data.get("grade", "").isdigit() else 0
    ),
    "unevaluate": lambda project, user, data: services.project_evaluation_withdraw(
        project=project, user=user, reason=data.get("reason", "")
    ),
}

MOVE_DONE = {
    "submit": _("The application was submitted to the party committee."),
    "approve": _("The project was approved: it is in progress."),
    "return": _("The application was returned to the branch."),
    "conclude": _("The project was concluded."),
    "evaluate": _("The grade was recorded."),
    "unevaluate": _("The grade was withdrawn and its points reversed."),
}


@login_required
@require_POST
def project_move(request, pk: int):
    name = request.POST.get("move", "")
    project = get_project_for_user(request.user, pk)
    if name not in MOVE_SERVICES:
        messages.error(request, _("Choose a step."))
        return redirect(project)
    committee = name in COMMITTEE_MOVES
    project = get_project_for_user(request.user, pk, write=not committee, committee=committee)
    try:
        result = MOVE_SERVICES[name](project, request.user, request.POST)
    except ValidationError as exc:
        report_refusal(request, exc)
    else:
        messages.success(request, str(MOVE_DONE[name]))
        if hasattr(result, "skipped"):
            report_postings(request, [result])
    return redirect(next_or(request, project.get_absolute_url()))


def _post_form(request, target, form, service, success: str, **kwargs):
    if form.is_valid():
        if call_service(form, service, **form.cleaned_data, **kwargs) is not None:
            messages.success(request, success)
            return redirect(target)
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)
    return redirect(target)


@login_required
@require_POST
def team_add(request, pk: int):
    project = get_project_for_user(request.user, pk, write=True)
    members = Member.objects.filter(branch__in=[project.branch_id, *project.co_branches.values_list("pk", flat=True)])
    form = ProjectMemberForm(request.POST, members=members)
    return _post_form(
        request, project, form, services.project_member_add, _("Added to the team."), project=project, user=request.user
    )


@login_required
@require_POST
def team_remove(request, pk: int):
    row = get_object_or_404(ProjectMember, pk=pk)
    project = get_project_for_user(request.user, row.project_id, write=True)
    try:
        services.project_member_remove(project_member=row, user=request.user)
    except ValidationError as exc:
        report_refusal(request, exc)
    else:
        messages.success(request, _("Removed from the team."))
    return redirect(project)


@login_required
@require_POST
def target_add(request, pk: int):
    project = get_project_for_user(request.user, pk, write=True)
    return _post_form(
        request,
        project,
        TargetForm(request.POST),
        services.project_target_add,
        _("The target was added."),
        project=project,
    )


@login_required
@require_POST
def milestone_add(request, pk: int):
    project = get_project_for_user(request.user, pk, write=True)
    return _post_form(
        request,
        project,
        MilestoneForm(request.POST),
        services.milestone_add,
        _("The milestone was added."),
        project=project,
    )


MILESTONE_SERVICES = {
    "milestone_submit": lambda m, user, reason: services.milestone_submit(milestone=m, user=user),
    "milestone_accept": lambda m, user, reason: services.milestone_accept(milestone=m, user=user, reason=reason),
    "milestone_return": lambda m, user, reason: services.milestone_return(milestone=m, user=user, reason=reason),
    "milestone_withdraw": lambda m, user, reason: services.milestone_withdraw(milestone=m, user=user, reason=reason),
}
MILESTONE_DONE = {
    "milestone_submit": _("The milestone was submitted for acceptance."),
    "milestone_accept": _("The milestone was accepted."),
    "milestone_return": _("The milestone was returned."),
    "milestone_withdraw": _("The acceptance was withdrawn; %(n)s entries were reversed."),
}


@login_required
@require_POST
def milestone_move(request, pk: int):
    milestone = get_object_or_404(Milestone, pk=pk)
    name = request.POST.get("move", "")
    if name not in MILESTONE_SERVICES:
        project = get_project_for_user(request.user, milestone.project_id)
        messages.error(request, _("Choose a step."))
        return redirect(project)
    committee = name in COMMITTEE_MOVES
    project = get_project_for_user(request.user, milestone.project_id, write=not committee, committee=committee)
    milestone.project = project
    try:
        result = MILESTONE_SERVICES[name](milestone, request.user, request.POST.get("reason", ""))
    except ValidationError as exc:
        report_refusal(request, exc)
    else:
        done = str(MILESTONE_DONE[name])
        messages.success(request, done % {"n": result} if "%(n)s" in done else done)
        if hasattr(result, "skipped"):
            report_postings(request, [result])
    return redirect(next_or(request, project.get_absolute_url()))


@login_required
@require_POST
def value_add(request, pk: int):
    project = get_project_for_user(request.user, pk, write=True)
    form = ValueRecordForm(request.POST, request.FILES)
    if form.is_valid():
        result = call_service(form, services.value_record_add, **form.cleaned_data, project=project, user=request.user)
        if result is not None:
            messages.success(request, _("The month's value was recorded."))
            report_postings(request, result[1])
            return redirect(project)
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)
    return redirect(project)


@login_required
def value_evidence(request, pk: int):
    record = get_object_or_404(ValueRecord, pk=pk)
    get_project_for_user(request.user, record.project_id)
    return stored_file_response(record.evidence, filename=record.evidence_name, content_type=record.evidence_type)


urlpatterns = [
    path("", project_list, name="list"),
    path("new/", project_create, name="create"),
    path("<id:pk>/", project_detail, name="detail"),
    path("<id:pk>/edit/", project_edit, name="edit"),
    path("<id:pk>/move/", project_move, name="move"),
    path("<id:pk>/team/", team_add, name="team_add"),
    path("team/<id:pk>/remove/", team_remove, name="team_remove"),
    path("<id:pk>/targets/", target_add, name="target_add"),
    path("<id:pk>/milestones/", milestone_add, name="milestone_add"),
    path("milestones/<id:pk>/move/", milestone_move, name="milestone_move"),
    path("<id:pk>/values/", value_add, name="value_add"),
    path("values/<id:pk>/evidence/", value_evidence, name="evidence"),
]
