import pghistory

from .context import enabled, request_context


class AuditContextMiddleware:
    """Every write of a request is recorded with its user, address and path.

    pghistory's own ``HistoryMiddleware`` records the user id and URL; this one adds the
    user name (kept when the user is deleted), the address and the method."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not enabled():
            return self.get_response(request)
        with pghistory.context(**request_context(request)):
            return self.get_response(request)
