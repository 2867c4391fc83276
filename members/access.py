"""The one place that decides which members a user may see and change.

A member is in scope when their current branch is (a member who left stays visible to
the branch they left from). Outsiders get 404, the same as for a missing member.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from branches.access import can_write_unit, user_scope

from .models import Member


def visible_members(user) -> QuerySet[Member]:
    return Member.objects.filter(user_scope(user).path_q("branch__path"))


def member_visible(user, member: Member) -> bool:
    """Whether ``member`` is in ``visible_members(user)``, decided from the member's
    branch (fetched with the member) and the user's scope, without a query."""
    return user_scope(user).contains(member.branch)


def can_write_member(user, member: Member) -> bool:
    return can_write_unit(user, member.branch)


def get_member_for_user(user, pk: int, *, write: bool = False) -> Member:
    member = visible_members(user).select_related("branch", "group").filter(pk=pk).first()
    if member is None:
        raise Http404
    if write and not can_write_member(user, member):
        raise PermissionDenied
    return member
