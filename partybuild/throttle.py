"""Login throttling on top of django-axes: a limit per address as well as per user, and
the client's address taken only from a header the deployment says its proxies set.

axes compares one failure count with one limit. Its count per user name and address
stays as it is (``AXES_LOCKOUT_PARAMETERS``, ``AXES_FAILURE_LIMIT``); the handler below
adds the failures from the address for any user names, with a limit of its own
(``AXES_IP_FAILURE_LIMIT``), so someone trying many user names from one address is
stopped too.
"""

import ipaddress

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest


class LoginThrottleHandler(AxesDatabaseHandler):
    """axes' database handler with a second limit: failures from one address."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        # axes locks when this reaches AXES_FAILURE_LIMIT; an address over its own limit
        # is reported as at least that, so every user name from it is refused.
        per_user = super().get_failures(request, credentials)
        if failures_from_address(request) >= settings.AXES_IP_FAILURE_LIMIT:
            return max(per_user, get_failure_limit(request, credentials))
        return per_user


def failures_from_address(request: HttpRequest) -> int:
    """Failed logins from the request's address within the cool-off, for any user name."""
    address = getattr(request, "axes_ip_address", None)
    if not address:
        return 0
    attempts = AccessAttempt.objects.filter(ip_address=address)
    if settings.AXES_COOLOFF_TIME is not None:
        attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
    return attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or the configured proxy header's.

    Without ``PARTYBUILD_CLIENT_IP_HEADER`` a client cannot choose its address by
    sending X-Forwarded-For. With it, each of the ``PARTYBUILD_TRUSTED_PROXIES`` proxies
    appends the address it received the request from, so the N-th entry from the right
    is the one the outermost trusted proxy saw: the right-most address no trusted proxy
    vouches for. Entries left of it are whatever the client sent, and are ignored.
    """
    remote = request.META.get("REMOTE_ADDR")
    header = settings.CLIENT_IP_HEADER
    if not header:
        return remote
    value = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
    hops = [hop.strip() for hop in value.split(",") if hop.strip()]
    if not hops:
        # Not through the proxy (a direct request to the application's port).
        return remote
    candidate = hops[max(0, len(hops) - settings.TRUSTED_PROXY_COUNT)]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
