from django.http import Http404
from django.shortcuts import redirect
from django.urls import Resolver404, resolve

from .access import is_member_only, may_open

# The session flag set at login (``signals.py``) while the one-time password stands: no
# query per request for anyone.
MUST_CHANGE = "partybuild_must_change_password"
# What a login with a one-time password may still open: the change page, leaving, the
# language switch.
PASSWORD_PAGES = frozenset({"me:password", "logout", "set_language"})


def _view_name(request) -> str | None:
    try:
        return resolve(request.path_info).view_name
    except Resolver404:
        return None


class MemberOnlyMiddleware:
    """Two rules for logins, applied before any view:

    * a login whose one-time password is still unchanged sees only the password change
      page (any other page redirects there, so nothing is done under a password someone
      else printed);
    * a member-only login (``access.is_member_only``) gets 404 for every URL outside its
      own pages — the answer an outsider gets for anything outside their scope.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        name = _view_name(request)
        if name is None:  # static files, unknown paths: nothing to guard
            return self.get_response(request)
        if request.session.get(MUST_CHANGE) and name not in PASSWORD_PAGES:
            return redirect("me:password")
        if is_member_only(user) and not may_open(user, name):
            raise Http404
        return self.get_response(request)
