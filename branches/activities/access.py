"""The one place that decides which activities a user may see and change: an activity
is in scope when its branch is. Outsiders get 404, as for an activity that does not exist."""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from branches.access import can_write_unit, user_scope

from .models import Activity


def visible_activities(user) -> QuerySet[Activity]:
    return Activity.objects.filter(user_scope(user).path_q("branch__path"))


def get_activity_for_user(user, pk: int, *, write: bool = False) -> Activity:
    activity = visible_activities(user).select_related("branch", "group").filter(pk=pk).first()
    if activity is None:
        raise Http404
    if write and not can_write_unit(user, activity.branch):
        raise PermissionDenied
    return activity
