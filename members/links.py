"""Who may follow a link to a member page: the rules ``branches.links`` asks, each
calling ``members.access`` (and ``branches.access``) as the view does."""

from branches.access import get_unit_for_user, writable_branches
from branches.links import granted, passes, rule

from .access import get_member_for_user, member_visible
from .models import Member


@rule("members:roster")
def _roster(user, **_kwargs) -> bool:
    return True


@rule("members:create", "members:import", "members:import_template", "members:import_preview", "members:import_confirm")
def _writes_members(user, **_kwargs) -> bool:
    return writable_branches(user).exists()


@rule("members:detail")
def _detail(user, *, pk, obj=None, **_kwargs) -> bool:
    if isinstance(obj, Member) and obj.pk == pk:
        # What get_member_for_user asks (is the member's branch in the scope?), from the
        # branch fetched with the member: the ledger's breadcrumb read the member again.
        return member_visible(user, obj)
    return passes(get_member_for_user, user, pk)


@rule("members:edit", "members:transfer", "members:leave")
def _change_active(user, *, pk, **_kwargs) -> bool:
    member = granted(get_member_for_user, user, pk, write=True)
    return member is not None and member.is_active


@rule("members:honour_add", "members:honour_revoke")
def _honours(user, *, pk, **_kwargs) -> bool:
    return passes(get_member_for_user, user, pk, write=True)


@rule("members:committee")
def _committee(user, *, unit_pk, **_kwargs) -> bool:
    branch = granted(get_unit_for_user, user, unit_pk)
    return branch is not None and branch.is_branch


@rule("members:group_leader")
def _group_leader(user, *, unit_pk, **_kwargs) -> bool:
    group = granted(get_unit_for_user, user, unit_pk, write=True)
    return group is not None and group.is_group


@rule("members:role_end")
def _role_end(user, **_kwargs) -> bool:
    return False  # a POST from the committee page, never a link
