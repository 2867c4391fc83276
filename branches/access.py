"""Who may see and change what. The one place that decides it for organisation units.

A user's *scope* is the union of the subtrees their role bindings point at; an
administrator's scope is everything. Secretaries and committee staff both read their
whole subtree; what they may change differs (``can_write_unit``). Every lookup of an
object by id from a URL goes through an ``get_<type>_for_user`` function, which raises
``Http404`` for objects outside the scope, exactly as for objects that do not exist.
"""

from dataclasses import dataclass, field
from functools import cached_property

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from .models import OrgUnit, RoleBinding

Role = RoleBinding.Role


@dataclass(frozen=True)
class Scope:
    """The subtrees a user may read, and per role where they were granted."""

    is_admin: bool = False
    # (role, unit) pairs; the unit is fetched with the binding so paths need no query.
    bindings: tuple[tuple[str, OrgUnit], ...] = field(default_factory=tuple)

    @cached_property
    def roles(self) -> frozenset[str]:
        roles = {role for role, _unit in self.bindings}
        if self.is_admin:
            roles.add(Role.ADMIN)
        return frozenset(roles)

    @property
    def is_empty(self) -> bool:
        return not self.is_admin and not self.bindings

    def paths(self, *roles: str) -> list[str]:
        return [unit.path for role, unit in self.bindings if not roles or role in roles]

    def units(self, *roles: str) -> list[OrgUnit]:
        return [unit for role, unit in self.bindings if not roles or role in roles]

    def path_q(self, lookup: str = "path", *roles: str) -> Q:
        """A filter matching rows whose ``lookup`` path lies in the scope."""
        if self.is_admin:
            return Q()
        paths = self.paths(*roles)
        if not paths:
            return Q(pk__in=[])
        q = Q()
        for path in paths:
            q |= Q(**{f"{lookup}__startswith": path})
        return q

    def contains(self, unit: OrgUnit, *roles: str) -> bool:
        if self.is_admin:
            return True
        return any(unit.path.startswith(path) for path in self.paths(*roles))


def scope_signature(scope: Scope) -> tuple:
    """What a scope grants, as a value (for cache keys): administrator or not, and each
    binding's role and unit (id and path: a unit moved is a new path)."""
    return (bool(scope.is_admin), tuple((role, unit.pk, unit.path) for role, unit in scope.bindings))


def user_scope(user: AbstractBaseUser | AnonymousUser) -> Scope:
    """Read the user's bindings once per request (cached on the user object)."""
    if not user.is_authenticated or not user.is_active:
        return Scope()
    cached = getattr(user, "_partybuild_scope", None)
    if cached is not None:
        return cached
    bindings = list(RoleBinding.objects.filter(user=user).select_related("unit"))
    is_admin = user.is_superuser or any(b.role == Role.ADMIN for b in bindings)
    scope = Scope(
        is_admin=is_admin,
        bindings=tuple((b.role, b.unit) for b in bindings if b.unit is not None),
    )
    user._partybuild_scope = scope
    return scope


def visible_units(user) -> QuerySet[OrgUnit]:
    scope = user_scope(user)
    return OrgUnit.objects.filter(scope.path_q("path"))


def can_write_unit(user, unit: OrgUnit) -> bool:
    """Committee staff change anything in their subtree; a secretary changes their own
    branch (its groups, term, committee and members) but not the committee above it."""
    scope = user_scope(user)
    if scope.is_admin:
        return True
    if scope.contains(unit, Role.COMMITTEE_STAFF):
        return True
    return unit.kind in (OrgUnit.Kind.BRANCH, OrgUnit.Kind.GROUP) and scope.contains(unit, Role.SECRETARY)


def can_manage_structure(user, unit: OrgUnit) -> bool:
    """Titles, tiers and new units are the committee's business, not the branch's —
    except that a secretary may set up their own branch's party groups."""
    scope = user_scope(user)
    return scope.is_admin or scope.contains(unit, Role.COMMITTEE_STAFF)


def get_unit_for_user(user, pk: int, *, write: bool = False) -> OrgUnit:
    """The unit if the user may see it; 404 if not; 403 if ``write`` and read-only."""
    unit = visible_units(user).filter(pk=pk).first()
    if unit is None:
        raise Http404
    if write and not can_write_unit(user, unit):
        raise PermissionDenied
    return unit


def writable_branches(user) -> QuerySet[OrgUnit]:
    """Active branches the user may write to: log activities in, put members into."""
    scope = user_scope(user)
    branches = OrgUnit.objects.filter(kind=OrgUnit.Kind.BRANCH, dissolved_on__isnull=True)
    if scope.is_admin:
        return branches
    return branches.filter(scope.path_q("path", Role.COMMITTEE_STAFF, Role.SECRETARY))
