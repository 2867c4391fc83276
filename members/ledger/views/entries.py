"""Pages of the points ledger (积分台账): a member's ledger by month, a branch's month
(members × categories), the entries behind any total, and the two writes made by hand —
recording an award or deduction, and reversing a mistake. Thin: access → selectors or
service → template."""

import datetime
import os

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from branches.access import can_write_unit, get_unit_for_user, user_scope

# The app above the ledger: only the views reach up, to link attendance to its activity
# and to serve evidence with the same content types activities accept.
from branches.activities.access import visible_activities
from branches.activities.models import Attendance
from branches.converters import FIRST_YEAR  # importing registers the path converters
from branches.forms import call_service
from branches.pages import stored_file_response
from branches.selectors import unit_ancestors
from branches.services import month_label
from branches.uploads import content_type_for
from members.access import can_write_member, get_member_for_user

from .. import selectors, services
from ..access import get_entry_for_user, get_ledger_member_for_user, visible_entries
from ..forms import EntryFilterForm, EntryRecordForm, EntryReverseForm, parse_month, this_month
from ..models import Category, LedgerEntry, Source

PAGE_SIZE = 50


def _year(value: str | None) -> int:
    today = timezone.localdate()
    try:
        year = int(value or "")
    except ValueError:
        return today.year
    return year if FIRST_YEAR <= year <= today.year else today.year


def member_ledger_url(member_pk: int, month: datetime.date) -> str:
    return reverse("ledger:member_ledger", args=[member_pk]) + "?" + urlencode({"year": month.year})


def entries_url(**filters) -> str:
    return reverse("ledger:entries") + "?" + urlencode({k: v for k, v in filters.items() if v is not None})


def _can_reverse(user, entry: LedgerEntry) -> bool:
    """Corrections are for whoever may write the branch the entry was booked to; points
    from attendance or a record's workflow are corrected on their record, never by hand."""
    return (
        entry.source not in services.NOT_REVERSIBLE_BY_HAND
        and not entry.is_reversal
        and entry.reversal_pk is None
        and can_write_unit(user, entry.branch)
    )


@login_required
def member_ledger(request, pk: int):
    member = get_member_for_user(request.user, pk)
    year = _year(request.GET.get("year"))
    months = selectors.member_month_totals(member=member, year=year)
    entries = list(selectors.member_entries(member=member, year=year))
    # Attendance entries link to their activity: the activity of every one in one query,
    # for the activities the user may open (a member who transferred in brings entries
    # from a branch outside the user's scope; those show without a link).
    attendance_ids = {e.source_id for e in entries if e.source == Source.ATTENDANCE and e.source_id}
    activity_of = dict(
        Attendance.objects.filter(pk__in=attendance_ids, activity__in=visible_activities(request.user))
        .order_by()
        .values_list("pk", "activity_id")
    )
    by_month: dict[datetime.date, list[LedgerEntry]] = {}
    for entry in entries:
        if entry.source == Source.ATTENDANCE:
            entry.activity_id = activity_of.get(entry.source_id)
        entry.can_reverse = _can_reverse(request.user, entry)
        by_month.setdefault(entry.month, []).append(entry)
    return render(
        request,
        "ledger/member_ledger.html",
        {
            "member": member,
            "year": year,
            "years": [y for y in (year - 1, year + 1) if FIRST_YEAR <= y <= timezone.localdate().year],
            "sections": [(totals, by_month.get(totals.month, [])) for totals in months],
            "months": months,
            "year_total": months[-1].running if months else selectors.ZERO,
            "year_categories": selectors.year_category_totals(months),
            "categories": Category,
            "can_record": member.is_active and can_write_member(request.user, member),
        },
    )


@login_required
def branch_month_current(request, unit_pk: int):
    branch = get_unit_for_user(request.user, unit_pk)
    month = this_month()
    return redirect("ledger:branch_month", unit_pk=branch.pk, year=month.year, month=month.month)


@login_required
def branch_month(request, unit_pk: int, year: int, month: int):
    branch = get_unit_for_user(request.user, unit_pk)
    if not branch.is_branch:
        raise Http404
    try:
        month_date = datetime.date(year, month, 1)
    except ValueError:
        raise Http404 from None
    matrix = selectors.branch_month_matrix(branch=branch, month=month_date)
    scope = user_scope(request.user)
    for row in matrix.rows:
        # A member's ledger page opens for those who may see the member now; one who
        # transferred out is reached through the entries list instead.
        row.ledger_visible = scope.contains(row.member.branch)
    previous, following = selectors.add_months(month_date, -1), selectors.add_months(month_date, 1)
    return render(
        request,
        "ledger/branch_month.html",
        {
            "unit": branch,
            "ancestors": unit_ancestors(unit=branch),
            "matrix": matrix,
            "month": month_date,
            "previous": previous,
            "following": following if following <= this_month() else None,
            "categories": Category,
        },
    )


@login_required
def entry_list(request):
    form = EntryFilterForm(request.GET)
    form.is_valid()
    # Only the fields that passed validation filter; a bad one is ignored and said so.
    filters = form.cleaned_data
    entries = visible_entries(request.user)
    member = branch = None
    if filters.get("member"):
        member, entries = get_ledger_member_for_user(request.user, filters["member"])
    if filters.get("branch"):
        branch = get_unit_for_user(request.user, filters["branch"])
    month = filters.get("month")
    if "month" not in request.GET and member is None:
        # Without a month or a member the list would sum every entry in the scope since
        # the beginning; start from this month (an empty ``month=`` asks for all).
        month = this_month()
    entries = selectors.entries_filter(
        entries,
        member=member,
        branch=branch,
        month=month,
        category=filters.get("category") or "",
        rule_code=filters.get("rule") or "",
    )
    page = Paginator(selectors.entries_for_list(entries), PAGE_SIZE).get_page(request.GET.get("page"))
    for entry in page:
        entry.can_reverse = _can_reverse(request.user, entry)
    query = request.GET.copy()
    query.pop("page", None)
    if "month" not in query:
        query["month"] = f"{month:%Y-%m}" if month else ""
    return render(
        request,
        "ledger/entry_list.html",
        {
            "form": form,
            "page": page,
            "total": selectors.entries_sum(entries),
            "member": member,
            "branch": branch,
            "month": month,
            "category": filters.get("category") or "",
            "rule_code": filters.get("rule") or "",
            "categories": Category,
            "query": query.urlencode(),
        },
    )


@login_required
def record(request, pk: int):
    member = get_member_for_user(request.user, pk, write=True)
    if not member.is_active:
        raise PermissionDenied
    # A GET with parameters is the month picker asking for that month's rules (htmx).
    initial = {
        "month": parse_month(request.GET.get("month")) or this_month(),
        "points": request.GET.get("points") or None,
        "reason": request.GET.get("reason", ""),
    }
    form = EntryRecordForm(
        request.POST or None,
        request.FILES or None,
        initial=initial,
        member=member,
        refresh_url=reverse("ledger:record", args=[member.pk]),
    )
    if request.method == "POST" and form.is_valid():
        entry = call_service(form, services.ledger_entry_record, member=member, user=request.user, **form.cleaned_data)
        if entry is not None:
            messages.success(
                request,
                _("%(points)s points for %(member)s (%(rule)s, %(month)s) were recorded.")
                % {
                    "points": f"{entry.points:+.2f}",
                    "member": member.name,
                    "rule": entry.rule.name,
                    "month": month_label(entry.month),
                },
            )
            return redirect(member_ledger_url(member.pk, entry.month))
    return render(
        request,
        "ledger/entry_form.html",
        {"form": form, "member": member, "title": _("Record points for %(name)s") % {"name": member.name}},
    )


def _after_correction_url(request, entry: LedgerEntry) -> str:
    # Back to the member's ledger when the user may see the member now; a writer of the
    # old branch of a member who transferred away goes back to the entries instead.
    if user_scope(request.user).contains(entry.member.branch):
        return member_ledger_url(entry.member_id, entry.month)
    return entries_url(member=entry.member_id, month=f"{entry.month:%Y-%m}")


@login_required
def entry_reverse(request, pk: int):
    entry = get_entry_for_user(request.user, pk, write=True)
    reversal = LedgerEntry.objects.filter(reverses=entry).only("pk").first()
    if entry.is_reversal:
        refusal = _(
            "Entry #%(pk)s reverses #%(original)s and cannot itself be reversed; record a new entry instead."
        ) % {
            "pk": entry.pk,
            "original": entry.reverses_id,
        }
    elif reversal is not None:
        refusal = _("Entry #%(pk)s has already been reversed by #%(reversal)s.") % {
            "pk": entry.pk,
            "reversal": reversal.pk,
        }
    else:
        refusal = ""
    form = EntryReverseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # The service refuses a reversal of a reversal or a second reversal itself (under
        # the member-month lock, so two clicks at once cannot both pass).
        created = call_service(
            form, services.ledger_entry_reverse, entry=entry, reason=form.cleaned_data["reason"], user=request.user
        )
        if created is not None:
            messages.success(
                request, _("Entry #%(pk)s was reversed by #%(reversal)s.") % {"pk": entry.pk, "reversal": created.pk}
            )
            return redirect(_after_correction_url(request, entry))
    return render(
        request,
        "ledger/entry_reverse.html",
        {"form": form, "entry": entry, "refusal": refusal, "back": _after_correction_url(request, entry)},
    )


@login_required
def evidence(request, pk: int):
    entry = get_entry_for_user(request.user, pk)
    name = os.path.basename(entry.evidence.name)
    return stored_file_response(entry.evidence, filename=name, content_type=content_type_for(name))


urlpatterns = [
    path("members/<id:pk>/", member_ledger, name="member_ledger"),
    path("members/<id:pk>/record/", record, name="record"),
    path("branches/<id:unit_pk>/", branch_month_current, name="branch_month_current"),
    path("branches/<id:unit_pk>/<year:year>/<month:month>/", branch_month, name="branch_month"),
    path("entries/", entry_list, name="entries"),
    path("entries/<id:pk>/reverse/", entry_reverse, name="reverse"),
    path("entries/<id:pk>/evidence/", evidence, name="evidence"),
]
