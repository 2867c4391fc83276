"""Rule sets as data: creating versions (writes) and what the rule pages read (reads).

A rule set changes only by a new version with an effective month later than every
version it already has. Ledger entries name the version they were recorded under, so a
new version rewrites nothing; and because a version may not take effect in a month that
a committee using the set has already closed, no graded month changes its rules.

Who may read or write is decided in ``members.ledger.rule_access``.
"""

import datetime
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Min, OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _

from branches.converters import FIRST_MONTH, LAST_MONTH, month_in_range
from branches.models import CommitteeMonth, OrgUnit
from branches.services import month_label

from .models import Category, MeetingRequirement, Rule, RuleSet, RuleSetVersion, ScoreItem, Source
from .services import first_of_month, rule_version_for

# Tests switch the row lock off to show the race it prevents, and use the hook (called
# between reading the newest version and writing the new one) to line the race up
# (tests/ledger/test_rules_concurrency.py).
LOCKING = True
_after_newest_read: Callable[[], None] | None = None

# What a new version may change per rule; everything else is copied unchanged.
EDITABLE_FIELDS = ("name", "points_min", "points_max", "monthly_cap", "evidence_required")
COPIED_FIELDS = (
    "code",
    "category",
    "source",
    "activity_kinds",
    "attendance_statuses",
    "per_class_hour",
    "sort_order",
)


def rule_field_key(code: str, field: str) -> str:
    """The key of a rule's value in forms and in ``ValidationError``: ``rules-<code>-<field>``."""
    return f"rules-{code}-{field}"


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


def customise_base_version(*, committee: OrgUnit, month: datetime.date) -> RuleSetVersion:
    """What a committee without rules of its own inherits in ``month``: the version its
    first own version is copied from."""
    return rule_version_for(unit=committee, month=month)


# ---------------------------------------------------------------------------------------
# Writes
# ---------------------------------------------------------------------------------------


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(value) from exc


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


def _edited_rule(base: Rule, edit: dict[str, Any], errors: dict[str, list[str]]) -> Rule:
    """A copy of ``base`` with ``edit``'s values; problems are added to ``errors``."""
    code = base.code

    def add(field: str, message: str) -> None:
        errors.setdefault(rule_field_key(code, field), []).append(message)

    values: dict[str, Any] = {field: getattr(base, field) for field in EDITABLE_FIELDS}
    for field in EDITABLE_FIELDS:
        if field not in edit:
            continue
        value = edit[field]
        if field in ("points_min", "points_max", "monthly_cap"):
            try:
                value = _decimal(value)
            except ValueError:
                add(field, _("Enter a number."))
                continue
        elif field == "name":
            value = (value or "").strip()
        elif field == "evidence_required":
            value = bool(value)
        values[field] = value
    rule = Rule(**{field: getattr(base, field) for field in COPIED_FIELDS}, **values)
    label = rule.name or code

    if not rule.name:
        add("name", _("Give the rule a name."))
    if rule.points_min is None:
        add("points_min", _("Enter the lowest points."))
    if rule.points_max is None:
        add("points_max", _("Enter the highest points."))
    if rule.points_min is not None and rule.points_max is not None:
        if rule.points_min > rule.points_max:
            add("points_max", _("%(rule)s: the highest points cannot be below the lowest.") % {"rule": label})
        elif rule.source == Source.ATTENDANCE and rule.points_min != rule.points_max:
            add(
                "points_max",
                _("%(rule)s is posted from attendance, so its points are fixed: enter the same number twice.")
                % {"rule": label},
            )
        if rule.category == Category.DEDUCTION and rule.points_max > 0:
            add("points_max", _("%(rule)s is a deduction: its points cannot be above 0.") % {"rule": label})
        if rule.category != Category.DEDUCTION and rule.points_min < 0:
            add(
                "points_min",
                _("%(rule)s is not a deduction: its points cannot be below 0.") % {"rule": label},
            )
    if rule.monthly_cap is not None and rule.monthly_cap <= 0:
        add("monthly_cap", _("A monthly cap must be above 0; leave it empty for no cap."))
    # Lengths and digits as the database stores them.
    try:
        rule.clean_fields(exclude=["version", *(f for f in EDITABLE_FIELDS if rule_field_key(code, f) in errors)])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            for message in messages:
                add(field, message)
    return rule


@transaction.atomic
def rule_set_version_create(
    *,
    rule_set: RuleSet | None,
    committee: OrgUnit | None,
    effective_month: datetime.date,
    yearly_training_hours: Decimal,
    note: str,
    rules: list[dict[str, Any]],
    user: AbstractBaseUser | None,
) -> RuleSetVersion:
    """A new version of ``rule_set`` taking effect in ``effective_month``; or, with
    ``committee`` instead, the committee's own rule set with version 1 (customising).

    The rules are those of the version the new one follows (the newest of the set; for a
    customisation, the version the committee inherits in ``effective_month``), with the
    names, points, caps and evidence flags edited by ``rules``: dicts keyed by ``code``
    with any of ``EDITABLE_FIELDS``. Codes, categories, what a rule applies to and the
    per-class-hour flag never change. Problems raise ``ValidationError`` keyed by field
    (``effective_month``, ``yearly_training_hours``, ``rules-<code>-<field>``)."""
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
    errors: dict[str, list[str]] = {"effective_month": month_errors} if month_errors else {}
    edits: dict[str, dict[str, Any]] = {}
    for edit in rules:
        code = edit.get("code")
        if code in edits:
            errors.setdefault("rules", []).append(_("The rule %(code)s is given twice.") % {"code": code})
        edits[code] = edit
    base_rules = version_rules(version=base)
    unknown = set(edits) - {rule.code for rule in base_rules}
    if unknown:
        errors.setdefault("rules", []).append(
            _("There is no rule %(code)s to change.") % {"code": ", ".join(sorted(map(str, unknown)))}
        )
    new_rules = [_edited_rule(rule, edits.get(rule.code, {}), errors) for rule in base_rules]

    version = RuleSetVersion(
        number=1,
        # Grading parameters carry over unchanged from the version the new one replaces.
        **{field: getattr(base, field) for field in RuleSetVersion.GRADING_FIELDS},
        effective_month=effective_month,
        yearly_training_hours=yearly_training_hours,
        note=(note or "").strip(),
        created_by=user,
    )
    try:
        version.clean_fields(exclude=["rule_set", "number", "created_by"])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    if _after_newest_read is not None:
        _after_newest_read()

    if rule_set is None:
        rule_set = RuleSet.objects.create(
            committee=committee, name=_("%(committee)s points rules") % {"committee": committee.name}
        )
    else:
        last = rule_set.versions.order_by("-number").values_list("number", flat=True).first()
        version.number = (last or 0) + 1
    version.rule_set = rule_set
    version.save(force_insert=True)
    for rule in new_rules:
        rule.version = version
    Rule.objects.bulk_create(new_rules)
    # The rest of the scheme carries over from the version the new one follows.
    MeetingRequirement.objects.bulk_create(
        MeetingRequirement(
            version=version,
            kind=r.kind,
            frequency=r.frequency,
            per_group=r.per_group,
            due_month=r.due_month,
            sort_order=r.sort_order,
        )
        for r in base.requirements.all()
    )
    ScoreItem.objects.bulk_create(
        ScoreItem(
            version=version,
            dimension=item.dimension,
            code=item.code,
            name=item.name,
            max_score=item.max_score,
            sort_order=item.sort_order,
        )
        for item in base.score_items.all()
    )
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
