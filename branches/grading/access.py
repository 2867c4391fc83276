"""Who may see a committee's grading. The one place that decides it.

* Committee staff (and administrators) of the committee's subtree see everything: the
  draft, the inputs, the runs, and may act (``can_manage_grading``).
* Everyone bound to a unit *under* the committee — a branch secretary — sees the
  published boards of that committee (公示 means every branch sees the ranking), but
  not drafts or inputs.
* Anyone else gets 404, as for a committee that does not exist.
"""

from django.http import Http404

from branches.access import Role, user_scope
from branches.models import OrgUnit


def can_manage_grading(user, committee: OrgUnit) -> bool:
    scope = user_scope(user)
    return scope.is_admin or scope.contains(committee, Role.COMMITTEE_STAFF)


def can_see_published(user, committee: OrgUnit) -> bool:
    scope = user_scope(user)
    if can_manage_grading(user, committee):
        return True
    return any(unit.path.startswith(committee.path) for unit in scope.units())


def get_committee_for_user(user, pk: int, *, manage: bool = False) -> OrgUnit:
    """The committee if the user may see its published boards (``manage``: its drafts,
    inputs and runs too); 404 otherwise."""
    # Read once per request: the page and each link it checks (PDF, Excel, groups…) ask
    # for the same committee; kept on the user object, which lives for one request, like
    # the scope.
    committees = user.__dict__.setdefault("_grading_committees", {})
    if pk not in committees:
        committees[pk] = OrgUnit.objects.filter(pk=pk, kind=OrgUnit.Kind.COMMITTEE).first()
    committee = committees[pk]
    if committee is None:
        raise Http404
    allowed = can_manage_grading(user, committee) if manage else can_see_published(user, committee)
    if not allowed:
        raise Http404
    return committee
