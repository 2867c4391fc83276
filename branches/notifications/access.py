"""A notification is its user's alone: anyone else gets a 404, as for one that does
not exist (administrators included: nothing in it is theirs to act on)."""

from django.http import Http404

from .models import Notification


def get_notification_for_user(user, pk: int, *, write: bool = False) -> Notification:
    if not user.is_authenticated:
        raise Http404
    try:
        return Notification.objects.get(pk=pk, user=user)
    except Notification.DoesNotExist:
        raise Http404 from None
