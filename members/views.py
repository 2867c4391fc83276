"""Pages about members: roster, detail, create/edit, transfer, leave, roles, honours,
and the branch committee (支委) page. Thin: access → selectors/services → template."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branches.access import can_write_unit, get_unit_for_user, user_scope, visible_units, writable_branches
from branches.forms import call_service
from branches.models import OrgUnit
from branches.pages import service_form_page
from branches.selectors import branch_current_term, branch_groups

from . import selectors, services
from .access import can_write_member, get_member_for_user, visible_members
from .forms import (
    GroupLeaderForm,
    HonourForm,
    HonourRevokeForm,
    LeaveForm,
    MemberForm,
    RoleAssignForm,
    RoleEndForm,
    RosterFilterForm,
    TransferForm,
)
from .models import MemberHonour, MemberRole

MEMBER_FIELDS = (
    "name",
    "gender",
    "birth_date",
    "ethnicity",
    "employee_no",
    "phone",
    "group",
    "post",
    "status",
    "joined_on",
    "converted_on",
)


@login_required
def roster(request):
    units = visible_units(request.user)
    form = RosterFilterForm(
        request.GET or None, units=units.exclude(kind=OrgUnit.Kind.GROUP), groups=units.filter(kind=OrgUnit.Kind.GROUP)
    )
    filters = form.cleaned_data if form.is_valid() else {}
    members = selectors.roster_filter(
        members=visible_members(request.user),
        q=(filters.get("q") or "").strip(),
        branch=filters.get("branch"),
        group=filters.get("group"),
        status=filters.get("status") or "",
        role=filters.get("role") or "",
        include_left=bool(filters.get("include_left")),
        scope_units=None if user_scope(request.user).is_admin else units,
    )
    page = Paginator(members, settings.ROSTER_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    branch = filters.get("branch")
    return render(
        request,
        "members/roster.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "can_create": writable_branches(request.user).exists(),
            "branch": branch,
            "today": timezone.localdate(),
        },
    )


@login_required
def member_detail(request, pk: int):
    member = get_member_for_user(request.user, pk)
    return render(
        request,
        "members/member_detail.html",
        {
            "member": member,
            "history": selectors.member_history(member=member),
            "roles": selectors.member_roles(member=member),
            "honours": selectors.member_honours(member=member),
            "can_write": can_write_member(request.user, member),
            "conversion_due_on": selectors.conversion_due_on(member),
        },
    )


def _member_kwargs(data: dict) -> dict:
    kwargs = {field: data[field] for field in MEMBER_FIELDS}
    for field in ("ethnicity", "phone", "post"):
        kwargs[field] = kwargs[field] or ""
    return kwargs


@login_required
def member_create(request):
    branches = writable_branches(request.user)
    if not branches.exists():
        raise PermissionDenied
    initial = {}
    branch_pk = request.GET.get("branch")
    if branch_pk and branch_pk.isdigit():
        initial["branch"] = branches.filter(pk=branch_pk).first()
    form = MemberForm(request.POST or None, initial=initial, branches=branches)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        member = call_service(
            form,
            services.member_create,
            branch=data["branch"],
            started_on=data["started_on"],
            user=request.user,
            **_member_kwargs(data),
        )
        if member:
            messages.success(request, _("%(member)s was added.") % {"member": member})
            return redirect(member)
    return render(request, "members/member_form.html", {"form": form, "title": _("New member")})


@login_required
def member_edit(request, pk: int):
    member = get_member_for_user(request.user, pk, write=True)
    if not member.is_active:
        raise PermissionDenied
    initial = {field: getattr(member, field) for field in MEMBER_FIELDS}
    form = MemberForm(request.POST or None, initial=initial, branches=None, member=member)
    if request.method == "POST" and form.is_valid():
        if call_service(
            form, services.member_update, member=member, user=request.user, **_member_kwargs(form.cleaned_data)
        ):
            messages.success(request, _("Saved."))
            return redirect(member)
    return render(
        request,
        "members/member_form.html",
        {"form": form, "member": member, "title": _("Edit %(name)s") % {"name": member.name}},
    )


@login_required
def member_transfer(request, pk: int):
    member = get_member_for_user(request.user, pk, write=True)
    if not member.is_active:
        raise PermissionDenied
    branches = writable_branches(request.user).exclude(pk=member.branch_id)
    form = TransferForm(request.POST or None, branches=branches)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if call_service(
            form,
            services.member_transfer,
            member=member,
            to_branch=data["to_branch"],
            to_group=data["to_group"],
            on_date=data["on_date"],
            note=data["note"],
            user=request.user,
        ):
            messages.success(
                request,
                _("%(member)s was transferred to %(branch)s.") % {"member": member, "branch": data["to_branch"]},
            )
            return redirect(member)
    return render(
        request,
        "members/member_form.html",
        {
            "form": form,
            "member": member,
            "title": _("Transfer %(name)s") % {"name": member.name},
            "help": _(
                "Only branches within your responsibility are listed; for a transfer elsewhere ask the party committee."
            ),
        },
    )


@login_required
def member_leave(request, pk: int):
    member = get_member_for_user(request.user, pk, write=True)
    if not member.is_active:
        raise PermissionDenied
    return service_form_page(
        request,
        LeaveForm(request.POST or None),
        service=services.member_leave,
        member=member,
        user=request.user,
        success=_("The leaving of %(member)s was recorded.") % {"member": member},
        redirect_to=member,
        template="members/member_form.html",
        context={"member": member, "title": _("%(name)s leaves") % {"name": member.name}},
    )


@login_required
def honour_add(request, pk: int):
    member = get_member_for_user(request.user, pk, write=True)
    return service_form_page(
        request,
        HonourForm(request.POST or None),
        service=services.member_honour_award,
        member=member,
        user=request.user,
        success=_("The honour was recorded."),
        redirect_to=member,
        template="members/member_form.html",
        context={"member": member, "title": _("Honour for %(name)s") % {"name": member.name}},
    )


@login_required
def honour_revoke(request, pk: int, honour_pk: int):
    member = get_member_for_user(request.user, pk, write=True)
    honour = get_object_or_404(MemberHonour, pk=honour_pk, member=member)
    return service_form_page(
        request,
        HonourRevokeForm(request.POST or None),
        service=services.member_honour_revoke,
        honour=honour,
        success=_("The honour was revoked."),
        redirect_to=member,
        template="members/member_form.html",
        context={"member": member, "title": _("Revoke %(honour)s") % {"honour": honour}},
    )


@login_required
def committee(request, unit_pk: int):
    """The branch committee (支委) and group leaders: see, appoint, end."""
    branch = get_unit_for_user(request.user, unit_pk)
    if not branch.is_branch:
        raise PermissionDenied
    can_write = can_write_unit(request.user, branch)
    active = visible_members(request.user).filter(branch=branch, left_on__isnull=True).order_by("employee_no")
    term = branch_current_term(branch=branch)
    form = RoleAssignForm(request.POST or None, members=active)
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            if call_service(
                form,
                services.member_role_assign,
                member=data["member"],
                unit=branch,
                role=data["role"],
                started_on=data["started_on"],
                term=term,
            ):
                messages.success(request, _("%(member)s was appointed.") % {"member": data["member"].name})
                return redirect("members:committee", unit_pk=branch.pk)
    groups = list(branch_groups(branch=branch))
    leaders = selectors.group_leaders(branch=branch)
    past = (
        MemberRole.objects.filter(unit__path__startswith=branch.path, ended_on__isnull=False)
        .select_related("member", "unit")
        .order_by("-ended_on")[:30]
    )
    return render(
        request,
        "members/committee.html",
        {
            "unit": branch,
            "term": term,
            "committee": selectors.branch_committee(branch=branch),
            "groups": [(g, leaders.get(g.pk)) for g in groups],
            "past": past,
            "form": form,
            "end_form": RoleEndForm(),
            "can_write": can_write,
        },
    )


@login_required
def group_leader(request, unit_pk: int):
    group = get_unit_for_user(request.user, unit_pk, write=True)
    if not group.is_group:
        raise PermissionDenied
    members = visible_members(request.user).filter(group=group, left_on__isnull=True)
    form = GroupLeaderForm(request.POST or None, members=members)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if call_service(
            form,
            services.member_role_assign,
            member=data["member"],
            unit=group,
            role=data["role"],
            started_on=data["started_on"],
        ):
            messages.success(request, _("%(member)s was appointed.") % {"member": data["member"].name})
            return redirect("members:committee", unit_pk=group.parent_id)
    return render(
        request, "members/member_form.html", {"form": form, "title": _("Group leader of %(unit)s") % {"unit": group}}
    )


@login_required
@require_POST
def role_end(request, role_pk: int):
    role = get_object_or_404(MemberRole.objects.select_related("unit"), pk=role_pk)
    # The role's unit decides access: outsiders see the same 404 as for a missing role.
    unit = get_unit_for_user(request.user, role.unit_id, write=True)
    form = RoleEndForm(request.POST)
    if form.is_valid() and call_service(
        form, services.member_role_end, role=role, ended_on=form.cleaned_data["ended_on"]
    ):
        messages.success(request, _("The role has ended."))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    branch_pk = unit.parent_id if unit.is_group else unit.pk
    return redirect("members:committee", unit_pk=branch_pk)
