from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .middleware import MUST_CHANGE
from .models import MemberLogin


@receiver(user_logged_in)
def _flag_one_time_password(sender, request, user, **kwargs) -> None:
    """Remember in the session that this login's password is a one-time password."""
    if request is not None and hasattr(request, "session"):
        if MemberLogin.objects.filter(user=user, must_change_password=True).exists():
            request.session[MUST_CHANGE] = True
        else:
            request.session.pop(MUST_CHANGE, None)
