from functools import cached_property

from members.me.access import is_member_only

from .selectors import unread_count


class Bell:
    """The navbar bell: its unread count is one COUNT, read only when a page shows the
    bell (partials rendered with a request never ask) and at most once per page."""

    def __init__(self, user):
        self.user = user

    @cached_property
    def unread(self) -> int:
        return unread_count(user=self.user)


def bell(request):
    user = getattr(request, "user", None)
    # A member's own login gets no reminders, and its pages no bell (it could not open
    # the list: everything outside the member's pages is a 404 for it).
    if user is None or not user.is_authenticated or is_member_only(user):
        return {}
    return {"bell": Bell(user)}
