"""Who is a *member-only* user and what such a user may open.

A member's login has no ``RoleBinding``: ``branches.access.user_scope`` gives it an
empty scope, so every unit, member and activity lookup is already a 404. A few pages
only ask for a login (lists that filter by scope, the rules); ``MemberOnlyMiddleware``
answers 404 for every URL outside ``MEMBER_URLS``, so the member sees their own pages
and nothing else, whatever a page forgets to check.
"""

from django.http import Http404

from branches.access import user_scope
from members.models import Member

# The URL names a member-only user may open (everything else is 404 for them).
MEMBER_URLS = frozenset(
    {
        "home",
        "login",
        "logout",
        "set_language",
        "activities:qr_checkin",
        "me:home",
        "me:points",
        "me:board",
        "me:suggest",
        "me:password",
    }
)


_UNREAD = object()


def own_member(user) -> Member | None:
    """The member record linked to ``user`` (cached on the user object), or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    # getattr, not ``user.__dict__``: request.user is a lazy object whose own __dict__
    # never holds what is set on the user it wraps (three queries a page, not one).
    member = getattr(user, "_partybuild_member", _UNREAD)
    if member is _UNREAD:
        member = user._partybuild_member = (
            Member.objects.select_related("branch", "group").filter(user=user, left_on__isnull=True).first()
        )
    return member


def is_member_only(user) -> bool:
    """A login linked to a current member and bound to no unit (no role, not a superuser)."""
    return user_scope(user).is_empty and not getattr(user, "is_superuser", False) and own_member(user) is not None


def may_open(user, view_name: str) -> bool:
    """Whether a member-only user may open the URL named ``view_name``."""
    return view_name in MEMBER_URLS


def get_own_member(user) -> Member:
    """The member whose pages these are: the user's own, or 404."""
    member = own_member(user)
    if member is None:
        raise Http404
    return member
