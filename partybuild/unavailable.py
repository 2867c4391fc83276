"""The database is unavailable: a clean 503 page instead of a server error.

While PostgreSQL restarts, a request in flight loses its connection and a new one is
refused. Wherever that happens — in a view, in the session or user lookup of a
middleware, in a template — Django turns the exception into a 500 response and sends
``got_request_exception``; the receiver marks the request, and this middleware (outside
the session middleware, which may write) answers with ``503.html`` instead: a static
page in Chinese and English, rendered without a request context, so without touching
the database. ``Retry-After`` tells clients to come back; the next request reconnects
(``CONN_HEALTH_CHECKS``).
"""

import logging
import sys

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)
DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 10


@receiver(got_request_exception)
def _mark_database_down(sender, request=None, **kwargs):
    exc = sys.exc_info()[1]
    if request is not None and isinstance(exc, DATABASE_ERRORS):
        request.database_unavailable = True


def unavailable_response(request) -> HttpResponse:
    # Like 500.html, the page is Chinese and English in itself: it needs nothing to render.
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "database_unavailable", False):
            logger.warning("database unavailable: 503 for %s %s", request.method, request.path)
            return unavailable_response(request)
        return response

    def process_exception(self, request, exception):
        # A view's own exception: answered here, before Django's 500 handling.
        if isinstance(exception, DATABASE_ERRORS):
            logger.warning("database unavailable in %s %s: %s", request.method, request.path, exception)
            return unavailable_response(request)
        return None
