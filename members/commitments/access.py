"""Who may see and change commitments. The one place that decides it.

* The branch's secretary (and a general branch's above it) and committee staff of the
  subtree see the branch's commitments, checks and results, and record them
  (``branches.access.can_write_unit``).
* Only committee staff (and administrators) publish a period's results (公示): a
  secretary in scope gets 403.
* Anyone else gets 404, as for an object that does not exist.

The published results are meant for every member of the branch. Members cannot log in
yet; when they can, ``can_see_results`` is where it goes — one line, "or the user is a
member of the branch" — and the results page, its link rule and nothing else follow.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from branches.access import Role, can_write_unit, get_unit_for_user, user_scope
from branches.models import OrgUnit

from .models import Commitment, CommitmentCheck, CommitmentMilestone, CommitmentTemplate


def can_publish(user, branch: OrgUnit) -> bool:
    scope = user_scope(user)
    return scope.is_admin or scope.contains(branch, Role.COMMITTEE_STAFF)


def can_see_results(user, branch: OrgUnit) -> bool:
    """The published results of a branch: whoever sees the branch (its secretary, the
    committee). Members of the branch join here once they can log in."""
    return user_scope(user).contains(branch)


def get_branch_for_user(user, pk: int, *, write: bool = False) -> OrgUnit:
    """A branch whose commitments the user may see (``write``: record); 404 for a unit
    outside the scope or not a branch, 403 for a read-only user asked to write."""
    branch = get_unit_for_user(user, pk)
    if not branch.is_branch:
        raise Http404
    if write and not can_write_unit(user, branch):
        raise PermissionDenied
    return branch


def get_branch_results_for_user(user, pk: int, *, publish: bool = False) -> OrgUnit:
    """A branch whose results the user may see (``publish``: publish them)."""
    branch = get_branch_for_user(user, pk)
    if not can_see_results(user, branch):
        raise Http404
    if publish and not can_publish(user, branch):
        raise PermissionDenied
    return branch


def get_commitment_for_user(user, pk: int, *, write: bool = False) -> Commitment:
    commitment = Commitment.objects.select_related("branch", "member", "template").filter(pk=pk).first()
    if commitment is None or not user_scope(user).contains(commitment.branch):
        raise Http404
    if write and not can_write_unit(user, commitment.branch):
        raise PermissionDenied
    return commitment


def get_template_for_user(user, pk: int, *, write: bool = False) -> CommitmentTemplate:
    template = CommitmentTemplate.objects.select_related("branch").filter(pk=pk).first()
    if template is None or not user_scope(user).contains(template.branch):
        raise Http404
    if write and not can_write_unit(user, template.branch):
        raise PermissionDenied
    return template


def get_milestone_for_user(user, pk: int, *, write: bool = False) -> CommitmentMilestone:
    milestone = CommitmentMilestone.objects.select_related("commitment__branch").filter(pk=pk).first()
    if milestone is None:
        raise Http404
    get_commitment_for_user(user, milestone.commitment_id, write=write)
    return milestone


def get_check_for_user(user, pk: int) -> CommitmentCheck:
    check = CommitmentCheck.objects.select_related("commitment__branch").filter(pk=pk).first()
    if check is None or not user_scope(user).contains(check.commitment.branch):
        raise Http404
    return check


def get_committee_for_user(user, pk: int) -> OrgUnit:
    """A committee whose branches' completion rates the user may see: its staff and
    administrators (a secretary sees their own branch's results, not every branch's)."""
    committee = OrgUnit.objects.filter(pk=pk, kind=OrgUnit.Kind.COMMITTEE).first()
    if committee is None or not can_publish(user, committee):
        raise Http404
    return committee
