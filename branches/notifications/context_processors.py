from functools import cached_property

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
    if user is None or not user.is_authenticated:
        return {}
    return {"bell": Bell(user)}
