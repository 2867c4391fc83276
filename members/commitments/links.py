"""Who may follow a link to a commitments page: the rules ``branches.links`` asks, each
calling ``commitments.access`` as the view does."""

from django.core.exceptions import ObjectDoesNotExist

from branches.links import granted, passes, rule

from .access import (
    get_branch_for_user,
    get_branch_results_for_user,
    get_check_for_user,
    get_commitment_for_user,
    get_committee_for_user,
)
from .models import CommitmentCheck, Period


@rule("commitments:branch_year", *(f"commitments:check_{p}" for p in Period.values))
def _branch(user, *, branch_pk, **_kwargs) -> bool:
    return passes(get_branch_for_user, user, branch_pk)


@rule("commitments:create", "commitments:template_create")
def _branch_write(user, *, branch_pk, **_kwargs) -> bool:
    return passes(get_branch_for_user, user, branch_pk, write=True)


@rule("commitments:detail")
def _detail(user, *, pk, **_kwargs) -> bool:
    return passes(get_commitment_for_user, user, pk)


@rule("commitments:edit")
def _edit(user, *, pk, **_kwargs) -> bool:
    return passes(get_commitment_for_user, user, pk, write=True)


@rule(
    "commitments:template_give",
    "commitments:delete",
    "commitments:milestone_add",
    "commitments:milestone_toggle",
    *(f"commitments:check_cell_{p}" for p in Period.values),
    *(f"commitments:publish_{p}" for p in Period.values),
)
def _posts(user, **_kwargs) -> bool:
    return False  # buttons and forms of the pages, never a link


@rule("commitments:evidence")
def _evidence(user, *, pk, **_kwargs) -> bool:
    try:
        check = CommitmentCheck.objects.only("evidence").get(pk=pk)
    except ObjectDoesNotExist:
        return False
    return bool(check.evidence) and passes(get_check_for_user, user, pk)


@rule(*(f"commitments:results_{p}" for p in Period.values))
def _results(user, *, branch_pk, **_kwargs) -> bool:
    return granted(get_branch_results_for_user, user, branch_pk) is not None


@rule("commitments:rates")
def _rates(user, *, committee_pk, **_kwargs) -> bool:
    return passes(get_committee_for_user, user, committee_pk)
