import time

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .middleware import LAST_SEEN


@receiver(user_logged_in)
def _start_idle_clock(sender, request, user, **kwargs) -> None:
    """The idle time counts from the login (saved with it: no write on the next page)."""
    if request is not None and hasattr(request, "session"):
        request.session[LAST_SEEN] = int(time.time())
