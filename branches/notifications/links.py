"""Who may follow a link to a notification page: every logged-in user has their own."""

from branches.links import passes, rule

from .access import get_notification_for_user


@rule("notifications:list", "notifications:preferences")
def _own(user, **_kwargs) -> bool:
    return user.is_authenticated


@rule("notifications:read")
def _read(user, *, pk, **_kwargs) -> bool:
    return passes(get_notification_for_user, user, pk)


@rule("notifications:read_all")
def _read_all(user, **_kwargs) -> bool:
    return False  # a button, never a link
