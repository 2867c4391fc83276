import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY

# When the session's login last made a request (seconds since the epoch).
LAST_SEEN = "partybuild_last_seen"
# How often the last-seen time (and with it the session's expiry) is written: not on
# every request, so reading pages does not write the session table each time.
REFRESH_SECONDS = 60


class IdleTimeoutMiddleware:
    """A login ends after ``SESSION_IDLE_TIMEOUT`` seconds without a request.

    The session store already forgets a session whose expiry (``SESSION_COOKIE_AGE``,
    set to the same value, counted from its last save) has passed; this middleware saves
    the session at most once a minute while it is in use, and ends a session whose
    last-seen time is older than the timeout itself, whatever the store and cookie say.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and SESSION_KEY in session:
            now = int(time.time())
            seen = session.get(LAST_SEEN)
            if seen is not None and now - seen > settings.SESSION_IDLE_TIMEOUT:
                session.flush()  # logged out: the authentication middleware sees no user
            elif seen is None or now - seen >= REFRESH_SECONDS:
                session[LAST_SEEN] = now
        return self.get_response(request)
