"""Who may see and move suggestions: a suggestion is in scope when its branch is (the
committee staff above it, the branch's secretary, administrators); outsiders get 404,
as for a suggestion that does not exist.

Entering a suggestion is writing to the branch (``can_write_unit``: its secretary or
the committee). Moving one on (审核, 发布, 实施 and their undos) is the committee's —
or the branch secretary's where the version of the rules in force says
``suggestions_by_secretary``.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from branches.access import Role, user_scope
from branches.models import OrgUnit
from members.ledger.services import rule_versions_for

from .models import Suggestion


def visible_suggestions(user) -> QuerySet[Suggestion]:
    return Suggestion.objects.filter(user_scope(user).path_q("branch__path"))


def can_move_suggestions(user: AbstractBaseUser, branch: OrgUnit) -> bool:
    """Committee staff above the branch (and administrators) move its suggestions on;
    its secretary does when the rules in force this month allow it. The answer is
    cached per branch on the user object, which lives for one request."""
    scope = user_scope(user)
    if scope.is_admin or scope.contains(branch, Role.COMMITTEE_STAFF):
        return True
    if not scope.contains(branch, Role.SECRETARY):
        return False
    cache = user.__dict__.setdefault("_partybuild_suggestion_movers", {})
    if branch.pk not in cache:
        version = rule_versions_for(units=[branch], month=timezone.localdate())[branch.pk]
        cache[branch.pk] = bool(version and version.suggestions_by_secretary)
    return cache[branch.pk]


def get_suggestion_for_user(user, pk: int, *, write: bool = False) -> Suggestion:
    """The suggestion if the user may see it; 404 if not; 403 if ``write`` (moving it
    on) and the user may only read it."""
    suggestion = visible_suggestions(user).select_related("branch", "created_by").filter(pk=pk).first()
    if suggestion is None:
        raise Http404
    if write and not can_move_suggestions(user, suggestion.branch):
        raise PermissionDenied
    return suggestion
