"""Who may read rule sets and who may create their versions. The one place that decides it.

Reading: anyone with a scope reads the rule sets that apply to them.

* administrators read every rule set;
* committee staff read the default set, the sets of the committees they are bound to
  and of the committees above them (the rules their committee inherits), and the sets
  of the committees in their subtree;
* secretaries read what ``rule_set_for`` can return for their units: the default set
  and the sets of the committees above their branch.

Writing (a new version): administrators for any rule set, the default included;
committee staff for the rule set of the committee they are bound to, and, while that
committee has no rule set of its own, they may customise one (version 1 copied from the
rules it inherits). Everyone else gets 404 for rule sets outside what they read and 403
inside it.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from branches.access import Role, get_unit_for_user, user_scope
from branches.models import OrgUnit

from .models import RuleSet

User = AbstractBaseUser | AnonymousUser


def visible_rule_sets(user: User) -> QuerySet[RuleSet]:
    """The rule sets ``user`` may read, as one query (the scope is cached per request)."""
    scope = user_scope(user)
    if scope.is_admin:
        return RuleSet.objects.all()
    if scope.is_empty:
        return RuleSet.objects.none()
    # At or above any bound unit: ids read off the materialised paths, no query.
    applying_ids = {pk for unit in scope.units() for pk in [*unit.ancestor_ids(), unit.pk]}
    q = Q(committee__isnull=True) | Q(committee_id__in=applying_ids)
    # Committee staff also read the sets of the committees under them.
    for path in scope.paths(Role.COMMITTEE_STAFF):
        q |= Q(committee__path__startswith=path)
    return RuleSet.objects.filter(q)


def can_create_rule_version(user: User, rule_set: RuleSet) -> bool:
    scope = user_scope(user)
    if scope.is_admin:
        return True
    return rule_set.committee_id is not None and any(
        unit.pk == rule_set.committee_id for unit in scope.units(Role.COMMITTEE_STAFF)
    )


def can_customise_rules(user: User, committee: OrgUnit) -> bool:
    """May ``user`` give ``committee`` a rule set of its own? (Whether it already has one
    is the service's question.)"""
    if not committee.is_committee:
        return False
    scope = user_scope(user)
    return scope.is_admin or any(unit.pk == committee.pk for unit in scope.units(Role.COMMITTEE_STAFF))


def customisable_committees(user: User) -> QuerySet[OrgUnit]:
    """Committees without a rule set of their own that ``user`` may customise."""
    scope = user_scope(user)
    committees = OrgUnit.objects.filter(kind=OrgUnit.Kind.COMMITTEE, rule_set__isnull=True, dissolved_on__isnull=True)
    if scope.is_admin:
        return committees
    return committees.filter(pk__in=[unit.pk for unit in scope.units(Role.COMMITTEE_STAFF)])


def get_rule_set_for_user(user: User, pk: int, *, write: bool = False) -> RuleSet:
    """The rule set if ``user`` may read it; 404 if not (the same as for a missing id);
    403 if ``write`` and they may only read it."""
    rule_set = visible_rule_sets(user).select_related("committee").filter(pk=pk).first()
    if rule_set is None:
        raise Http404
    if write and not can_create_rule_version(user, rule_set):
        raise PermissionDenied
    return rule_set


def get_committee_to_customise(user: User, pk: int) -> OrgUnit:
    """The committee whose rules ``user`` wants to customise: 404 outside their scope or
    for a unit that is not a committee, 403 inside it without the right."""
    committee = get_unit_for_user(user, pk)
    if not committee.is_committee:
        raise Http404
    if not can_customise_rules(user, committee):
        raise PermissionDenied
    return committee
