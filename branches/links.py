"""Links a user may follow: the one helper that breadcrumbs and buttons ask before they
render an ``<a href>``.

A page must not show a link that ends in a 404 or 403 for the user looking at it (a
secretary does not see the committee page above their branch). Whether a URL opens
is decided by the same access functions its view calls (``branches/access.py``,
``members/access.py``, ``activities/access.py``, ``ledger/access.py``,
``grading/access.py`` …): each app lists, in its ``links.py``, one *rule* per URL name
that calls them. ``url_if_allowed`` resolves a URL (reversed from a view name, or an
object's ``get_absolute_url``) to its name and arguments and asks that rule.

A URL name without a rule is a programming error (``ImproperlyConfigured``), not a
link shown by default: every page linked through the helper must say who may open it.
Answers are cached on the user object, which lives for one request, like the scope.

Templates use ``{% load links %}`` (``branches/templatetags/links.py``)::

    {% link_if_allowed user committee %}                       <a href>name</a> or the name
    {% link_if_allowed user "grading:board" c.pk y m text=label %}
    {% url_if_allowed user "reports:dossier_pdf" c.pk b.pk y as url %}{% if url %}…{% endif %}
"""

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import Http404, QueryDict
from django.urls import Resolver404, resolve, reverse
from django.utils.module_loading import autodiscover_modules

from .access import can_manage_structure, get_unit_for_user, user_scope
from .models import OrgUnit

# rule(user, *, query: QueryDict, obj: the object linked to or None, **url_kwargs) -> bool
Rule = Callable[..., bool]

_rules: dict[str, Rule] = {}
_discovered = False


def rule(*view_names: str) -> Callable[[Rule], Rule]:
    """Register ``check`` as the rule of these URL names (``"grading:board"``)."""

    def register(check: Rule) -> Rule:
        for name in view_names:
            _rules[name] = check
        return check

    return register


def passes(access: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
    """True when an access function lets the user through; False when it raises the
    404 or 403 the view would answer with."""
    try:
        access(*args, **kwargs)
    except (Http404, PermissionDenied):
        return False
    return True


def granted(access: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """What an access function returns, or None where it raises its 404 or 403."""
    try:
        return access(*args, **kwargs)
    except (Http404, PermissionDenied):
        return None


def _discover() -> None:
    """Import every app's ``links`` module once, so their rules are registered."""
    global _discovered
    if not _discovered:
        autodiscover_modules("links")
        _discovered = True


def rule_for(view_name: str) -> Rule:
    _discover()
    try:
        return _rules[view_name]
    except KeyError:
        raise ImproperlyConfigured(
            f"No link rule for {view_name!r}: add one to the app's links.py (see branches/links.py)."
        ) from None


def may_follow(user, url: str, *, obj: Any = None) -> bool:
    """Would ``url`` (a path of this site, with an optional query) open for ``user``?
    ``obj``, the object the URL was made from, spares a rule a query it can answer
    from what it already has (a unit's path against the cached scope)."""
    if not getattr(user, "is_authenticated", False):
        return False
    parts = urlsplit(url)
    try:
        match = resolve(parts.path)
    except Resolver404:
        return False
    key = (match.view_name, tuple(sorted(match.kwargs.items())), parts.query)
    cache = user.__dict__.setdefault("_partybuild_links", {})
    if key not in cache:
        check = rule_for(match.view_name)
        cache[key] = bool(check(user, query=QueryDict(parts.query), obj=obj, **match.kwargs))
    return cache[key]


def url_if_allowed(user, target: Any, *args: Any, query: str | dict | None = None) -> str | None:
    """The URL of ``target`` — a view name reversed with ``args``, or an object with
    ``get_absolute_url`` — when ``user`` may open it, else None. ``query`` (a string or
    a dict) is appended and is part of the question (``draft=1`` is for staff only)."""
    obj = target if hasattr(target, "get_absolute_url") else None
    url = obj.get_absolute_url() if obj is not None else reverse(target, args=args)
    if query:
        url = f"{url}?{query if isinstance(query, str) else urlencode(query)}"
    return url if may_follow(user, url, obj=obj) else None


# --- the organisation's own pages -------------------------------------------------------
# (Each app below ``branches`` keeps its rules in its own links.py.)


def _always(user, **_kwargs) -> bool:
    return True


rule("home", "login", "logout", "set_language", "branches:tree")(_always)


@rule("branches:unit_detail")
def _unit_detail(user, *, pk, obj=None, **_kwargs) -> bool:
    if isinstance(obj, OrgUnit) and obj.pk == pk:
        # What get_unit_for_user asks (is the unit's path in the scope?), without the query.
        return user_scope(user).contains(obj)
    return passes(get_unit_for_user, user, pk)


@rule("branches:unit_edit")
def _unit_edit(user, *, pk, **_kwargs) -> bool:
    return passes(get_unit_for_user, user, pk, write=True)


@rule("branches:unit_create")
def _unit_create(user, *, pk, **_kwargs) -> bool:
    parent = granted(get_unit_for_user, user, pk, write=True)
    if parent is None:
        return False
    kinds = [kind for kind, parents in OrgUnit.ALLOWED_PARENTS.items() if parent.kind in parents]
    return bool(kinds) and (can_manage_structure(user, parent) or OrgUnit.Kind.GROUP in kinds)


@rule("branches:term_start")
def _term_start(user, *, pk, **_kwargs) -> bool:
    branch = granted(get_unit_for_user, user, pk, write=True)
    return branch is not None and branch.is_branch


@rule("branches:months")
def _months(user, *, pk, **_kwargs) -> bool:
    committee = granted(get_unit_for_user, user, pk)
    return committee is not None and committee.is_committee


@rule("branches:title_award", "branches:title_withdraw")
def _titles(user, *, pk, **_kwargs) -> bool:
    branch = granted(get_unit_for_user, user, pk)
    return branch is not None and branch.is_branch and can_manage_structure(user, branch)


@rule("branches:tracking")
def _tracking(user, *, pk, **_kwargs) -> bool:
    committee = granted(get_unit_for_user, user, pk)
    return committee is not None and committee.is_committee and user_scope(user).is_admin
