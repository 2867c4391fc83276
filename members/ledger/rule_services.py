"""Rule sets as data: creating versions (writes) and what the rule pages read (reads).

A rule set changes only by a new version with an effective month later than every
version it already has. Ledger entries name the version they were recorded under, so a
new version rewrites nothing; and because a version may not take effect in a month that
a committee using the set has already closed, no graded month changes its rules.

A version holds the committee's whole scheme (细则): the member rules, the grading
parameters, the meeting requirements and the scored sub-items. What each may be is
checked in ``members.ledger.rule_scheme``; who may read or write is decided in
``members.ledger.rule_access``; how two versions differ is ``members.ledger.rule_diff``.
"""

import datetime
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Min, OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _

from branches.choices import Dimension
from branches.converters import FIRST_MONTH, LAST_MONTH, month_in_range
from branches.models import CommitteeMonth, OrgUnit
from branches.services import month_label

from .models import MeetingRequirement, Rule, RuleSet, RuleSetVersion, ScoreItem

# The form and the tests read the field lists and keys from here, with the service.
from .rule_scheme import (  # noqa: F401
    COPIED_FIELDS,
    EDITABLE_FIELDS,
    ITEM_FIELDS,
    NEW_RULE_FIELDS,
    REQUIREMENT_FIELDS,
    Errors,
    add_error,
    entered_dimensions,
    rule_field_key,
    scheme_items,
    scheme_parameters,
    scheme_requirements,
    scheme_rules,
    to_decimal,
)
from .services import first_of_month, rule_version_for

# Tests switch the row lock off to show the race it prevents, and use the hook (called
# between reading the newest version and writing the new one) to line the race up
# (tests/ledger/test_rules_concurrency.py).
LOCKING = True
_after_newest_read: Callable[[], None] | None = None


def next_month(day: datetime.date) -> datetime.date:
    return (first_of_month(day) + datetime.timedelta(days=32)).replace(day=1)


# ---------------------------------------------------------------------------------------
# Reads
# ---------------------------------------------------------------------------------------


def rule_sets_overview(*, rule_sets: QuerySet[RuleSet], month: datetime.date) -> QuerySet[RuleSet]:
    """``rule_sets`` with their committee, number of versions and the version in force in
    ``month`` (``current_number``, ``current_effective_month``; None when every version
    starts later). One query; the default set first, then by the committee tree."""
    in_force = RuleSetVersion.objects.filter(
        rule_set=OuterRef("pk"), effective_month__lte=first_of_month(month)
    ).order_by("-effective_month")
    return (
        rule_sets.select_related("committee")
        .annotate(
            version_count=Count("versions"),
            current_number=Subquery(in_force.values("number")[:1]),
            current_effective_month=Subquery(in_force.values("effective_month")[:1]),
        )
        .order_by(F("committee__path").asc(nulls_first=True), "pk")
    )


def rule_set_versions(*, rule_set: RuleSet) -> list[RuleSetVersion]:
    """Every version of ``rule_set``, newest first, with who created it."""
    return list(rule_set.versions.select_related("created_by").order_by("-effective_month"))


def version_in_force(versions: list[RuleSetVersion], month: datetime.date) -> RuleSetVersion | None:
    """Of ``versions`` (any order), the one in force in ``month``; no query."""
    month = first_of_month(month)
    candidates = [v for v in versions if v.effective_month <= month]
    return max(candidates, key=lambda v: v.effective_month, default=None)


def version_rules(*, version: RuleSetVersion) -> list[Rule]:
    return list(version.rules.order_by("sort_order", "code"))


def version_requirements(*, version: RuleSetVersion) -> list[MeetingRequirement]:
    return list(version.requirements.order_by("sort_order", "pk"))


def version_items(*, version: RuleSetVersion) -> list[ScoreItem]:
    """The version's scored sub-items, by dimension in board order, then their order."""
    order = {dimension: i for i, dimension in enumerate(Dimension.values)}
    return sorted(version.score_items.all(), key=lambda item: (order.get(item.dimension, 99), item.sort_order, item.pk))


@dataclass
class DimensionRow:
    """A dimension of the branch score as a version holds it: weight, whether the
    committee enters it, and its scored sub-items (if any)."""

    dimension: str
    label: str
    weight: Decimal
    entered: bool
    items: list[ScoreItem]

    @property
    def items_total(self) -> Decimal:
        return sum((item.max_score for item in self.items), Decimal("0"))


def version_dimensions(*, version: RuleSetVersion, items: list[ScoreItem]) -> list[DimensionRow]:
    """The five dimensions of ``version`` in board order, with ``items`` (its scored
    sub-items, as ``version_items`` reads them); no query."""
    entered = version.entered_dimensions
    return [
        DimensionRow(
            dimension=dimension,
            label=str(label),
            weight=version.weights[dimension],
            entered=dimension in entered,
            items=[item for item in items if item.dimension == dimension],
        )
        for dimension, label in Dimension.choices
    ]


def customise_base_version(*, committee: OrgUnit, month: datetime.date) -> RuleSetVersion:
    """What a committee without rules of its own inherits in ``month``: the version its
    first own version is copied from."""
    return rule_version_for(unit=committee, month=month)


# ---------------------------------------------------------------------------------------
# Writes
# ---------------------------------------------------------------------------------------


def _effective_month_errors(
    *,
    effective_month: datetime.date,
    newest: RuleSetVersion | None,
    committee: OrgUnit | None,
) -> list[str]:
    """What is wrong with ``effective_month`` for a new version following ``newest`` of
    ``committee``'s rules (``None``: the default rules)."""
    if effective_month.day != 1:
        return [_("A version takes effect on the first day of a month.")]
    if not month_in_range(effective_month):
        return [
            _("Choose a month from %(first)s to %(last)s.")
            % {"first": month_label(FIRST_MONTH), "last": month_label(LAST_MONTH)}
        ]
    if newest is not None and effective_month <= newest.effective_month:
        return [
            _(
                "Versions only move forward: version %(number)s already takes effect in %(month)s, "
                "so a new version must start later."
            )
            % {"number": newest.number, "month": month_label(newest.effective_month)}
        ]
    first_closed = _first_closed_month_following(committee=committee, effective_month=effective_month)
    if first_closed is not None:
        return [
            _(
                "%(month)s is closed for %(committee)s: its ranking was published under the rules "
                "in force then. A new version must start after the last closed month."
            )
            % {"month": month_label(first_closed.month), "committee": first_closed.committee.name}
        ]
    return []


def _first_closed_month_following(
    *, committee: OrgUnit | None, effective_month: datetime.date
) -> CommitteeMonth | None:
    """The first closed month, from ``effective_month`` on, of a committee that would
    follow a new version of ``committee``'s rules (``None``: the default rules).

    Those are the committees at or under ``committee`` (every committee, for the default)
    with no rule set nearer to them that is already in force in that month. A month they
    closed was graded under the rules in force then, and must keep them. Closed months
    from the effective month on are few (usually none), so they are read and judged here.
    """
    closed = CommitteeMonth.objects.filter(state=CommitteeMonth.State.CLOSED, month__gte=effective_month)
    if committee is not None:
        closed = closed.filter(committee__path__startswith=committee.path)
    closed = list(closed.select_related("committee").order_by("month", "committee__path"))
    if not closed:
        return None
    chains = {row.committee_id: [*row.committee.ancestor_ids(), row.committee_id] for row in closed}
    own_from = dict(
        RuleSet.objects.filter(committee_id__in={pk for chain in chains.values() for pk in chain})
        .annotate(first_month=Min("versions__effective_month"))
        .values_list("committee_id", "first_month")
    )
    for row in closed:
        chain = chains[row.committee_id]
        nearer = chain[chain.index(committee.pk) + 1 :] if committee is not None else chain
        if not any(own_from.get(pk) is not None and own_from[pk] <= row.month for pk in nearer):
            return row
    return None


@dataclass
class PreparedVersion:
    """A new version checked and built, nothing written yet: the version, its rules,
    requirements and items (unsaved), and for a customisation the committee whose rule
    set is still to be created. ``rule_set_version_create`` writes it."""

    version: RuleSetVersion
    rules: list[Rule]
    requirements: list[MeetingRequirement]
    items: list[ScoreItem]
    base: RuleSetVersion
    rule_set: RuleSet | None
    committee: OrgUnit | None


def _used_codes(model: type[Rule] | type[ScoreItem], rule_set_ids: set[int]) -> set[str]:
    """Every code ``model`` ever had in these rule sets (any version)."""
    return set(model.objects.filter(version__rule_set_id__in=rule_set_ids).values_list("code", flat=True).distinct())


def rule_set_version_prepare(
    *,
    rule_set: RuleSet | None,
    committee: OrgUnit | None,
    effective_month: datetime.date,
    note: str,
    user: AbstractBaseUser | None,
    yearly_training_hours: Decimal | str | None = None,
    parameters: Mapping[str, Any] | None = None,
    rules: Sequence[Mapping[str, Any]] = (),
    requirements: Sequence[Mapping[str, Any]] | None = None,
    score_items: Sequence[Mapping[str, Any]] | None = None,
) -> PreparedVersion:
    """Check and build what ``rule_set_version_create`` would write (same arguments),
    writing nothing; ``ValidationError`` with every problem. Runs inside the caller's
    transaction: it locks the rule set (or the committee being customised) so that the
    version it follows stays the newest until the caller is done."""
    if (rule_set is None) == (committee is None):
        raise ValueError("Pass either rule_set (a new version) or committee (customising), not both.")
    if not isinstance(effective_month, datetime.date):
        raise ValidationError({"effective_month": _("Enter a month.")})

    if rule_set is not None:
        # One writer per rule set at a time: the next one waits here, then reads the
        # version just written as the newest.
        rule_sets = RuleSet.objects.select_related("committee")
        if LOCKING:
            rule_sets = rule_sets.select_for_update(of=("self",))
        rule_set = rule_sets.get(pk=rule_set.pk)
        base = rule_set.versions.order_by("-effective_month").first()
        if base is None:
            raise ValidationError(_("%(rules)s has no version to start from.") % {"rules": rule_set.name})
        month_errors = _effective_month_errors(
            effective_month=effective_month, newest=base, committee=rule_set.committee
        )
    else:
        # Serialise customisations of one committee (the rule set is one-to-one with it).
        committee = OrgUnit.objects.select_for_update().get(pk=committee.pk)
        if not committee.is_committee:
            raise ValidationError(_("Only a party committee can have rules of its own."))
        if RuleSet.objects.filter(committee=committee).exists():
            raise ValidationError(
                _("%(committee)s already has rules of its own: create a new version of them instead.")
                % {"committee": committee.name}
            )
        month_errors = _effective_month_errors(effective_month=effective_month, newest=None, committee=committee)
        base = customise_base_version(committee=committee, month=first_of_month(effective_month))

    # Every problem at once, so the form shows them all.
    errors: Errors = {"effective_month": month_errors} if month_errors else {}
    # New codes skip every code the set ever used, and for a customisation every code of
    # the set it starts from, so an entry's rule code always means one rule.
    rule_set_ids = {base.rule_set_id} | ({rule_set.pk} if rule_set is not None else set())
    new_rules = scheme_rules(
        base_rules=version_rules(version=base),
        rows=rules,
        used_codes=_used_codes(Rule, rule_set_ids),
        errors=errors,
    )
    values = scheme_parameters(base=base, values=parameters, errors=errors)
    if requirements is None:
        requirements = [
            {"kind": r.kind, "frequency": r.frequency, "per_group": r.per_group, "due_month": r.due_month}
            for r in version_requirements(version=base)
        ]
    new_requirements = scheme_requirements(rows=requirements, errors=errors)
    base_items = version_items(version=base)
    if score_items is None:
        score_items = [
            {"code": i.code, "dimension": i.dimension, "name": i.name, "max_score": i.max_score, "fed_by": i.fed_by}
            for i in base_items
        ]
    new_items = scheme_items(
        rows=score_items,
        base_items=base_items,
        entered=entered_dimensions(values),
        used_codes=_used_codes(ScoreItem, rule_set_ids),
        errors=errors,
    )

    if yearly_training_hours is None:
        hours = base.yearly_training_hours
    else:
        try:
            hours = to_decimal(yearly_training_hours)
        except ValueError:
            add_error(errors, "yearly_training_hours", _("Enter a number."))
            hours = None
        else:
            if hours is None:
                add_error(errors, "yearly_training_hours", _("This field is required."))
            elif hours < 0:
                add_error(errors, "yearly_training_hours", _("Enter 0 or more hours."))
    version = RuleSetVersion(
        number=1,
        **values,
        effective_month=effective_month,
        yearly_training_hours=hours,
        note=(note or "").strip(),
        created_by=user,
    )
    try:
        # Lengths and digits as the database stores them, for what is not already wrong.
        version.clean_fields(exclude=["rule_set", "number", "created_by", *errors])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return PreparedVersion(
        version=version,
        rules=new_rules,
        requirements=new_requirements,
        items=new_items,
        base=base,
        rule_set=rule_set,
        committee=committee,
    )


@transaction.atomic
def rule_set_version_create(
    *,
    rule_set: RuleSet | None,
    committee: OrgUnit | None,
    effective_month: datetime.date,
    note: str,
    user: AbstractBaseUser | None,
    yearly_training_hours: Decimal | str | None = None,
    parameters: Mapping[str, Any] | None = None,
    rules: Sequence[Mapping[str, Any]] = (),
    requirements: Sequence[Mapping[str, Any]] | None = None,
    score_items: Sequence[Mapping[str, Any]] | None = None,
) -> RuleSetVersion:
    """A new version of ``rule_set`` taking effect in ``effective_month``; or, with
    ``committee`` instead, the committee's own rule set with version 1 (customising).

    The new version starts as a copy of the one it follows (the newest of the set; for a
    customisation, the version the committee inherits in ``effective_month``) and takes,
    where given:

    * ``yearly_training_hours`` and ``parameters``: any of ``RuleSetVersion.GRADING_FIELDS``;
    * ``rules``: dicts with the ``code`` of a rule to change (any of ``EDITABLE_FIELDS``)
      or to retire (``"retire": True``), and dicts without a code to add a rule
      (``NEW_RULE_FIELDS``; an optional ``key`` names its errors, ``new<i>`` by default).
      A rule's code, category, source and activities never change; new rules get codes;
    * ``requirements``: the whole list of meeting requirements (``REQUIREMENT_FIELDS``);
    * ``score_items``: the whole list of scored sub-items (``ITEM_FIELDS``, with the
      ``code`` of an item kept from the base version).

    Each list item may carry a ``key`` for its errors (its position by default). Every
    problem is raised at once in one ``ValidationError`` keyed by field (see
    ``rule_scheme``); nothing is written then."""
    prepared = rule_set_version_prepare(
        rule_set=rule_set,
        committee=committee,
        effective_month=effective_month,
        note=note,
        user=user,
        yearly_training_hours=yearly_training_hours,
        parameters=parameters,
        rules=rules,
        requirements=requirements,
        score_items=score_items,
    )
    if _after_newest_read is not None:
        _after_newest_read()

    version, rule_set = prepared.version, prepared.rule_set
    if rule_set is None:
        committee = prepared.committee
        rule_set = RuleSet.objects.create(
            committee=committee, name=_("%(committee)s points rules") % {"committee": committee.name}
        )
    else:
        last = rule_set.versions.order_by("-number").values_list("number", flat=True).first()
        version.number = (last or 0) + 1
    version.rule_set = rule_set
    version.save(force_insert=True)
    for row in (*prepared.rules, *prepared.requirements, *prepared.items):
        row.version = version
    Rule.objects.bulk_create(prepared.rules)
    MeetingRequirement.objects.bulk_create(prepared.requirements)
    ScoreItem.objects.bulk_create(prepared.items)
    return version


@transaction.atomic
def rule_set_version_note_set(*, version: RuleSetVersion, note: str) -> RuleSetVersion:
    """Change a version's note, the one thing about a version that may change: its
    numbers are what months were graded with (on PostgreSQL a trigger refuses any other
    change to a version that graded a month, see grading's migration 0004)."""
    version.note = (note or "").strip()
    version.full_clean(exclude=["rule_set", "created_by"], validate_unique=False)
    RuleSetVersion.objects.filter(pk=version.pk).update(note=version.note)
    return version
