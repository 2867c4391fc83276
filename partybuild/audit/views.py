from django.contrib.auth.decorators import login_required
from django.db import connection
from django.shortcuts import render

from .access import require_audit_reader
from .forms import AuditFilterForm
from .selectors import Filters, audit_events

MAX_PAGE = 1000


def _page(value: str | None) -> int:
    try:
        page = int(value or 1)
    except ValueError:
        return 1
    return min(max(page, 1), MAX_PAGE)


@login_required
def events(request):
    """The audit trail: every recorded change, newest first, filtered (administrators)."""
    require_audit_reader(request.user)
    form = AuditFilterForm(request.GET or None)
    filters = Filters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = Filters(
            kind=data["kind"] or "",
            username=data["username"].strip(),
            since=data["since"],
            until=data["until"],
            object_id=data["object_id"],
        )
    page = _page(request.GET.get("page"))
    valid = not form.is_bound or form.is_valid()
    rows, has_older = audit_events(filters, page=page) if valid else ([], False)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/events.html",
        {
            "form": form,
            "rows": rows,
            "page": page,
            "newer_page": page - 1 if page > 1 else None,
            "older_page": page + 1 if has_older else None,
            "query": query.urlencode(),
            "captured": connection.vendor == "postgresql",
        },
    )
