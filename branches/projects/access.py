"""Who may see and change projects and challenges.

A project is seen by committee staff of its committee's subtree (and above) and by the
secretaries of its lead and co-operating branches — ``user_scope`` paths against the
branches' paths. The lead branch (its secretary) moves the application and the work
(``write=True``); the committee's moves (approve, accept, evaluate …) need
``committee=True``: staff of the project's committee or above. Outsiders get 404,
insiders without the right 403.

A challenge is posted by a committee for everything below it: staff at or above the
committee and secretaries of branches below it see it; its staff change it.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from branches.access import Role, can_write_unit, user_scope, writable_branches
from branches.models import OrgUnit

from .models import Challenge, Project


def visible_projects(user) -> QuerySet[Project]:
    scope = user_scope(user)
    if scope.is_admin:
        return Project.objects.all()
    co = Project.co_branches.through.objects.filter(scope.path_q("orgunit__path")).values("project_id")
    return Project.objects.filter(scope.path_q("branch__path") | Q(pk__in=co))


def is_committee_of(user, committee: OrgUnit) -> bool:
    """Staff of this committee or of one above it (or an administrator)."""
    return user_scope(user).contains(committee, Role.COMMITTEE_STAFF)


def get_project_for_user(user, pk: int, *, write: bool = False, committee: bool = False) -> Project:
    project = visible_projects(user).select_related("branch", "committee", "kind", "leader").filter(pk=pk).first()
    if project is None:
        raise Http404
    if committee and not is_committee_of(user, project.committee):
        raise PermissionDenied
    if write and not can_write_unit(user, project.branch):
        raise PermissionDenied
    return project


def _prefixes(path: str) -> list[str]:
    """``/1/2/5/`` → ``/1/``, ``/1/2/``, ``/1/2/5/``: the paths of a unit and its ancestors."""
    ids = [part for part in path.split("/") if part]
    return ["/" + "/".join(ids[: i + 1]) + "/" for i in range(len(ids))]


def visible_challenges(user) -> QuerySet[Challenge]:
    """Challenges of committees at or below the user's units (staff) and of committees
    at or above them (a branch sees the board of every committee it belongs to)."""
    scope = user_scope(user)
    if scope.is_admin:
        return Challenge.objects.all()
    q = scope.path_q("committee__path")
    above = {prefix for path in scope.paths() for prefix in _prefixes(path)}
    if above:
        q |= Q(committee__path__in=above)
    return Challenge.objects.filter(q)


def claimable_branches(user, challenge: Challenge) -> QuerySet[OrgUnit]:
    """The branches the user may claim ``challenge`` for: those they write to, below its committee."""
    return writable_branches(user).filter(path__startswith=challenge.committee.path)


def get_challenge_for_user(user, pk: int, *, write: bool = False, claim: bool = False) -> Challenge:
    """``write``: the committee's (post, pick, close); ``claim``: a branch's claim."""
    challenge = visible_challenges(user).select_related("committee", "kind").filter(pk=pk).first()
    if challenge is None:
        raise Http404
    if write and not is_committee_of(user, challenge.committee):
        raise PermissionDenied
    if claim and not claimable_branches(user, challenge).exists():
        raise PermissionDenied
    return challenge


def committees_managed(user) -> QuerySet[OrgUnit]:
    """The committees whose projects the user runs: committees in their staff scope."""
    scope = user_scope(user)
    units = OrgUnit.objects.filter(kind=OrgUnit.Kind.COMMITTEE, dissolved_on__isnull=True)
    if scope.is_admin:
        return units
    return units.filter(scope.path_q("path", Role.COMMITTEE_STAFF))


def get_committee_for_user(user, pk: int) -> OrgUnit:
    """A committee's project pages (queue, evaluation, summary, settings): its staff only;
    404 for a committee outside the scope (as ``get_unit_for_user``), 403 for one
    the user only reads."""
    unit = OrgUnit.objects.filter(pk=pk, kind=OrgUnit.Kind.COMMITTEE).first()
    if unit is None or not user_scope(user).contains(unit):
        raise Http404
    if not is_committee_of(user, unit):
        raise PermissionDenied
    return unit
