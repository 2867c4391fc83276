"""Who may follow a link to a suggestion page: the rules ``branches.links`` asks, each
calling the access functions the view calls."""

from branches.access import can_manage_structure, can_write_unit, get_unit_for_user
from branches.links import granted, passes, rule

from .access import get_suggestion_for_user


@rule("suggestions:branch")
def _branch(user, *, branch_pk, **_kwargs) -> bool:
    branch = granted(get_unit_for_user, user, branch_pk)
    return branch is not None and branch.is_branch


@rule("suggestions:create")
def _create(user, *, branch_pk, **_kwargs) -> bool:
    branch = granted(get_unit_for_user, user, branch_pk)
    return branch is not None and branch.is_branch and branch.is_active and can_write_unit(user, branch)


@rule("suggestions:detail")
def _detail(user, *, pk, **_kwargs) -> bool:
    return passes(get_suggestion_for_user, user, pk)


@rule("suggestions:evidence")
def _evidence(user, *, pk, **_kwargs) -> bool:
    suggestion = granted(get_suggestion_for_user, user, pk)
    return suggestion is not None and bool(suggestion.evidence)


@rule("suggestions:move")
def _move(user, **_kwargs) -> bool:
    return False  # the buttons of the suggestion page and the queue, never a link


@rule("suggestions:queue")
def _queue(user, *, committee_pk, **_kwargs) -> bool:
    committee = granted(get_unit_for_user, user, committee_pk)
    return committee is not None and committee.is_committee and can_manage_structure(user, committee)


@rule("suggestions:funnel", "suggestions:funnel_panel")
def _funnel(user, *, unit_pk, **_kwargs) -> bool:
    unit = granted(get_unit_for_user, user, unit_pk)
    return unit is not None and not unit.is_group
