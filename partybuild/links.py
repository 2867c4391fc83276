"""Which links of the project app a user may follow (``branches.links``): the code step of the login
is for a user half-way through logging in (anyone who is shown it), two-factor setup for
administrators and committee staff only (the same test as its view)."""

from branches.links import rule

from .accounts.services import may_use_two_factor


@rule("login_code")
def _login_code(user, **_kwargs) -> bool:
    return True


@rule("two_factor")
def _two_factor(user, **_kwargs) -> bool:
    return may_use_two_factor(user)
