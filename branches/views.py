"""Pages about the organisation tree. Thin: look up through ``branches.access``, read
through selectors, write through services."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from members import selectors as member_selectors
from members.access import visible_members

from . import selectors, services
from .access import can_manage_structure, can_write_unit, get_unit_for_user, user_scope, visible_units
from .forms import (
    MonthCloseForm,
    MonthReopenForm,
    TermStartForm,
    TitleAwardForm,
    TitleWithdrawForm,
    TrackingForm,
    UnitCreateForm,
    UnitEditForm,
    call_service,
)
from .models import BranchTitle, OrgUnit
from .pages import service_form_page
from .services import month_label


@login_required
def unit_tree(request):
    show_groups = request.GET.get("groups") == "1"
    units = visible_units(request.user)
    if not show_groups:
        units = units.exclude(kind=OrgUnit.Kind.GROUP)
    units = selectors.tree_order(list(units))
    counts = member_selectors.member_counts(units=visible_units(request.user))
    # Indent relative to the shallowest unit the user sees.
    base_depth = min((u.depth for u in units), default=0)
    rows = [(u, u.depth - base_depth, counts.get(u.pk)) for u in units]
    return render(request, "branches/unit_tree.html", {"rows": rows, "show_groups": show_groups})


@login_required
def unit_detail(request, pk: int):
    unit = get_unit_for_user(request.user, pk)
    today = timezone.localdate()
    children = list(OrgUnit.objects.filter(parent=unit).order_by("sort_order", "name"))
    subtree = selectors.unit_subtree(unit=unit)
    counts = member_selectors.member_counts(units=subtree)
    context = {
        "unit": unit,
        "ancestors": [a for a in selectors.unit_ancestors(unit=unit) if user_scope(request.user).contains(a)],
        "children": [(c, counts.get(c.pk)) for c in children],
        "counts": counts.get(unit.pk),
        "can_write": can_write_unit(request.user, unit),
        "can_manage": can_manage_structure(request.user, unit),
        "can_set_tracking": unit.is_committee and user_scope(request.user).is_admin,
        "tracked_from": selectors.tracked_from_of(unit=unit),
        "today": today,
    }
    if unit.is_branch:
        groups = list(selectors.branch_groups(branch=unit))
        group_counts = member_selectors.group_member_counts(branch=unit)
        leaders = member_selectors.group_leaders(branch=unit)
        term = selectors.branch_current_term(branch=unit)
        context.update(
            term=term,
            term_days_left=term.days_left(today) if term else None,
            term_reminder_days=settings.TERM_REMINDER_DAYS,
            titles=BranchTitle.objects.filter(branch=unit).select_related("awarded_by", "withdrawn_by"),
            committee=member_selectors.branch_committee(branch=unit),
            groups=[(g, group_counts.get(g.pk, 0), leaders.get(g.pk)) for g in groups],
            conversions=member_selectors.conversions_due(
                members=visible_members(request.user).filter(branch=unit), today=today
            ),
            terms=unit.terms.all(),
        )
    else:
        branches = selectors.unit_subtree(unit=unit, kinds=[OrgUnit.Kind.BRANCH])
        context.update(
            branch_total=branches.count(),
            member_total=sum(c["total"] for c in counts.values()),
            expiring=selectors.terms_expiring(units=subtree, today=today, within_days=settings.TERM_REMINDER_DAYS)[:50],
        )
    return render(request, "branches/unit_detail.html", context)


@login_required
def unit_edit(request, pk: int):
    unit = get_unit_for_user(request.user, pk, write=True)
    allow_tier = unit.is_branch and can_manage_structure(request.user, unit)
    initial = {f: getattr(unit, f) for f in ("name", "brand", "brand_description", "sort_order", "tier")}
    form = UnitEditForm(request.POST or None, initial=initial, allow_tier=allow_tier)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if call_service(
            form,
            services.org_unit_update,
            unit=unit,
            name=data["name"],
            brand=data["brand"],
            brand_description=data["brand_description"],
            sort_order=data["sort_order"],
            tier=data.get("tier") if allow_tier else None,
        ):
            messages.success(request, _("Saved."))
            return redirect(unit)
    return render(
        request, "branches/unit_form.html", {"unit": unit, "form": form, "title": _("Edit %(unit)s") % {"unit": unit}}
    )


def _creatable_kinds(user, parent: OrgUnit) -> list[str]:
    kinds = [k for k, allowed in OrgUnit.ALLOWED_PARENTS.items() if parent.kind in allowed]
    if not can_manage_structure(user, parent):
        # A secretary may only set up party groups in their own branch.
        kinds = [k for k in kinds if k == OrgUnit.Kind.GROUP]
    return kinds


@login_required
def unit_create(request, pk: int):
    parent = get_unit_for_user(request.user, pk, write=True)
    kinds = _creatable_kinds(request.user, parent)
    if not kinds:
        raise PermissionDenied
    form = UnitCreateForm(request.POST or None, parent=parent, allowed_kinds=kinds)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        unit = call_service(
            form,
            services.org_unit_create,
            parent=parent,
            kind=data["kind"],
            name=data["name"],
            code=data["code"],
            brand=data["brand"],
            established_on=data["established_on"],
        )
        if unit:
            messages.success(request, _("%(unit)s was created.") % {"unit": unit})
            return redirect(unit)
    return render(
        request,
        "branches/unit_form.html",
        {"unit": parent, "form": form, "title": _("New unit under %(unit)s") % {"unit": parent}},
    )


@login_required
def term_start(request, pk: int):
    branch = get_unit_for_user(request.user, pk, write=True)
    if not branch.is_branch:
        raise PermissionDenied
    return service_form_page(
        request,
        TermStartForm(request.POST or None),
        service=services.branch_term_start,
        branch=branch,
        user=request.user,
        success=lambda term: _("Term %(number)s has started.") % {"number": term.number},
        redirect_to=branch,
        template="branches/unit_form.html",
        context={"unit": branch, "title": _("Start a new term (换届) for %(unit)s") % {"unit": branch}},
    )


@login_required
def committee_tracking(request, pk: int):
    """The first tracked month of a committee: the administrator's setting."""
    committee = get_unit_for_user(request.user, pk)
    if not committee.is_committee:
        raise Http404
    if not user_scope(request.user).is_admin:
        raise PermissionDenied
    return service_form_page(
        request,
        TrackingForm(request.POST or None, initial={"tracked_from": committee.tracked_from}),
        service=services.committee_tracking_set,
        committee=committee,
        success=_("Saved."),
        redirect_to=committee,
        template="branches/unit_form.html",
        context={"unit": committee, "title": _("Tracking of %(unit)s") % {"unit": committee}},
    )


@login_required
def title_award(request, pk: int):
    branch = get_unit_for_user(request.user, pk)
    if not branch.is_branch or not can_manage_structure(request.user, branch):
        raise PermissionDenied
    return service_form_page(
        request,
        TitleAwardForm(request.POST or None),
        service=services.branch_title_award,
        branch=branch,
        user=request.user,
        success=_("The title was awarded."),
        redirect_to=branch,
        template="branches/unit_form.html",
        context={"unit": branch, "title": _("Award a title to %(unit)s") % {"unit": branch}},
    )


@login_required
def title_withdraw(request, pk: int, title_pk: int):
    branch = get_unit_for_user(request.user, pk)
    title = get_object_or_404(BranchTitle, pk=title_pk, branch=branch)
    if not can_manage_structure(request.user, branch):
        raise PermissionDenied
    return service_form_page(
        request,
        TitleWithdrawForm(request.POST or None),
        service=services.branch_title_withdraw,
        title=title,
        user=request.user,
        success=_("The title was withdrawn."),
        redirect_to=branch,
        template="branches/unit_form.html",
        context={"unit": branch, "title": _("Withdraw %(title)s") % {"title": title}},
    )


@login_required
def committee_months(request, pk: int):
    """A committee's months: which are closed, and every closing and reopening with who,
    when and why. Closing normally happens when the ranking is published; reopening is
    an act of committee staff with a reason."""
    committee = get_unit_for_user(request.user, pk)
    if not committee.is_committee:
        raise PermissionDenied
    can_manage = can_manage_structure(request.user, committee)
    action = request.POST.get("action")
    close_form = MonthCloseForm(request.POST if action == "close" else None, prefix="close")
    reopen_form = MonthReopenForm(request.POST if action == "reopen" else None, prefix="reopen")
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        form, service = (
            (close_form, services.month_close) if action == "close" else (reopen_form, services.month_reopen)
        )
        if form.is_valid():
            data = form.cleaned_data
            row = call_service(
                form, service, committee=committee, month=data["month"], reason=data["reason"], user=request.user
            )
            if row:
                messages.success(
                    request,
                    _("%(month)s is now %(state)s.")
                    % {"month": month_label(row.month), "state": row.get_state_display()},
                )
                return redirect("branches:months", pk=committee.pk)
    return render(
        request,
        "branches/committee_months.html",
        {
            "unit": committee,
            "months": selectors.committee_months(committee=committee),
            "close_form": close_form,
            "reopen_form": reopen_form,
            "can_manage": can_manage,
        },
    )
