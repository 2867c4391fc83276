from django.http import Http404

from branches.access import user_scope


def can_read_audit(user) -> bool:
    """Administrators (superusers and the admin role) only."""
    return user_scope(user).is_admin


def require_audit_reader(user) -> None:
    """Anyone else gets the 404 of a page that does not exist."""
    if not can_read_audit(user):
        raise Http404
