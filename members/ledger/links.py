"""Who may follow a link to a ledger or rules page: the rules ``branches.links`` asks,
each calling ``ledger.access`` / ``ledger.rule_access`` (and the lower apps' access) as
the view does."""

from branches.access import get_unit_for_user, user_scope
from branches.links import granted, passes, rule
from members.access import get_member_for_user

from .access import get_entry_for_user, get_ledger_member_for_user
from .rule_access import get_committee_to_customise, get_rule_set_for_user


@rule("ledger:ruleset_list")
def _ruleset_list(user, **_kwargs) -> bool:
    return not user_scope(user).is_empty


@rule("ledger:ruleset_detail", "ledger:ruleset_changes")
def _ruleset_detail(user, *, pk, **_kwargs) -> bool:
    return passes(get_rule_set_for_user, user, pk)


@rule("ledger:ruleset_version_create")
def _ruleset_version_create(user, *, pk, **_kwargs) -> bool:
    return passes(get_rule_set_for_user, user, pk, write=True)


@rule("ledger:ruleset_customise")
def _ruleset_customise(user, *, committee_pk, **_kwargs) -> bool:
    return passes(get_committee_to_customise, user, committee_pk)


@rule("ledger:member_ledger")
def _member_ledger(user, *, pk, **_kwargs) -> bool:
    return passes(get_member_for_user, user, pk)


@rule("ledger:record")
def _record(user, *, pk, **_kwargs) -> bool:
    member = granted(get_member_for_user, user, pk, write=True)
    return member is not None and member.is_active


@rule("ledger:branch_month_current", "ledger:branch_month")
def _branch_month(user, *, unit_pk, **_kwargs) -> bool:
    branch = granted(get_unit_for_user, user, unit_pk)
    return branch is not None and branch.is_branch


def _id(value: str) -> int | None:
    """An id the filter form accepts (a bigint), else None: the list ignores it."""
    return int(value) if value.isdigit() and 1 <= int(value) < 2**63 else None


@rule("ledger:entries")
def _entries(user, *, query, **_kwargs) -> bool:
    member, branch = _id(query.get("member", "")), _id(query.get("branch", ""))
    if member is not None and not passes(get_ledger_member_for_user, user, member):
        return False
    return branch is None or passes(get_unit_for_user, user, branch)


@rule("ledger:reverse")
def _reverse(user, *, pk, **_kwargs) -> bool:
    return passes(get_entry_for_user, user, pk, write=True)


@rule("ledger:evidence")
def _evidence(user, *, pk, **_kwargs) -> bool:
    entry = granted(get_entry_for_user, user, pk)
    return entry is not None and bool(entry.evidence)
