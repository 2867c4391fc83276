from .access import user_scope
from .models import OrgUnit


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
    return {"scope": scope, "user_roles": scope.roles, "primary_unit": primary}
