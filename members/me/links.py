"""Who may follow a link to the member's pages and the login pages: the rules
``branches.links`` asks, each calling the access functions the view calls."""

from branches.access import get_unit_for_user
from branches.links import granted, rule

from .access import own_member


@rule("me:home", "me:points", "me:board", "me:suggest")
def _own(user, **_kwargs) -> bool:
    return own_member(user) is not None


@rule("me:password")
def _password(user, **_kwargs) -> bool:
    return True


@rule("me:login_issue")
def _issue(user, **_kwargs) -> bool:
    return False  # a button (POST) on the member page, never a link


@rule("me:branch_logins")
def _branch_logins(user, *, branch_pk, **_kwargs) -> bool:
    branch = granted(get_unit_for_user, user, branch_pk, write=True)
    return branch is not None and branch.is_branch and branch.is_active
