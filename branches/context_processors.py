import datetime

from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from .access import user_scope
from .models import OrgUnit
from .selectors import committee_for


def access(request):
    """Expose the user's roles to the base layout so navigation shows only what they may
    do, and the unit that navigation links open by default (their first binding; for an
    administrator, the root committee)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    scope = user_scope(user)
    units = scope.units()
    if units:
        primary = units[0]
    elif scope.is_admin:
        primary = OrgUnit.objects.filter(parent__isnull=True).order_by("sort_order", "pk").first()
    else:
        primary = None
    # The committee whose ranking board the navigation opens: the user's own committee,
    # or the committee above the user's branch.
    # Lazy: a page that never links the board (an htmx row) asks nothing for it.
    board_committee = SimpleLazyObject(lambda: committee_for(unit=primary) if primary is not None else None)
    last_month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    return {
        "scope": scope,
        "user_roles": scope.roles,
        "primary_unit": primary,
        "board_committee": board_committee,
        "last_month": last_month,
    }
