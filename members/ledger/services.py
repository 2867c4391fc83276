"""Writes to the points ledger. The only code that creates ``LedgerEntry`` rows; there is
no code that updates or deletes one.

Caps hold under concurrency because every write first takes a PostgreSQL advisory lock
per (member, month) it touches, in a fixed order, and only then reads the month's totals.
"""

import datetime
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.models import OrgUnit
from branches.services import month_assert_open, month_label
from branches.uploads import check_upload
from members.models import Member

from .models import LedgerEntry, Rule, RuleSet, RuleSetVersion, Source
from .rule_cache import attendance_rules

# Tests switch this off to show the race the lock prevents (tests/ledger/test_concurrency.py).
LOCKING = True
LOCK_NAMESPACE = 0x1ED6  # the first advisory-lock key: "ledger"


# Rules of these sources are posted by their records' workflows (``ledger_post_source``).
WORKFLOW_SOURCES = (Source.PROJECT, Source.SUGGESTION, Source.COMMITMENT)
# Entries that follow their record (an attendance, a workflow's step): corrected there,
# never reversed by hand (``ledger_entry_reverse`` refuses, the pages offer no button).
NOT_REVERSIBLE_BY_HAND = (Source.ATTENDANCE, *WORKFLOW_SOURCES)


def first_of_month(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def member_month_lock_base(month: datetime.date) -> int:
    """A member-month lock's key less the member's part: the key is this plus
    ``member id << 17`` (so SQL can add a member id it reads itself)."""
    return (LOCK_NAMESPACE << 48) + (month.year * 12 + month.month - 1) % (1 << 17)


def lock_member_months(keys: set[tuple[int, datetime.date]]) -> None:
    """Serialise writers to the same members' months until the transaction ends.

    Locks are taken in sorted order so two batches that overlap cannot deadlock. SQLite
    serialises all writers anyway, so there is nothing to do there.
    """
    if not LOCKING or connection.vendor != "postgresql" or not keys:
        return
    # One bigint key per member-month: namespace | member id | month number, packed so
    # no two (member, month) pairs share a key (member ids below 2**31).
    ordered = sorted(member_month_lock_base(month) + (member_id << 17) for member_id, month in keys)
    with connection.cursor() as cursor:
        # The sorted subquery fixes the order in which the outer query takes the locks.
        cursor.execute(
            "SELECT pg_advisory_xact_lock(k) FROM "
            "(SELECT k FROM unnest(%s::bigint[]) WITH ORDINALITY AS t(k, i) ORDER BY i) AS ordered",
            [ordered],
        )


def rule_set_for(*, unit: OrgUnit) -> RuleSet:
    """The rule set of the nearest committee above ``unit`` that has one, else the default."""
    ancestor_ids = unit.ancestor_ids() + [unit.pk]
    own = (
        RuleSet.objects.filter(committee_id__in=ancestor_ids)
        .select_related("committee")
        .order_by("-committee__depth")
        .first()
    )
    return own or RuleSet.objects.get(committee__isnull=True)


def rule_versions_for(*, units: list[OrgUnit], month: datetime.date) -> dict[int, RuleSetVersion | None]:
    """The version in force in ``month`` for each unit, in one query however many units.

    The nearest committee at or above the unit whose rule set has a version effective
    by then wins; a committee whose own rules start later falls back to the rules above
    it, and finally to the installation default. None where nothing is in force."""
    month = first_of_month(month)
    by_month = rule_versions_by_month(units=units, months=[month])
    return {unit.pk: by_month[(unit.pk, month)] for unit in units}


def rule_versions_by_month(
    *, units: list[OrgUnit], months: list[datetime.date]
) -> dict[tuple[int, datetime.date], RuleSetVersion | None]:
    """``(unit id, month) → the version in force`` (as ``rule_versions_for``) for every
    unit and month, still in one query however many units and months: a year's
    compliance matrix asks for twelve months at once."""
    months = sorted({first_of_month(m) for m in months})
    if not units or not months:
        return {}
    ids = {i for unit in units for i in [*unit.ancestor_ids(), unit.pk]}
    # Each rule set's versions in effective order, with their rule sets (one query: a
    # rule set with no version yet is in force nowhere): the one in force in a month is
    # the last that took effect by then.
    history: dict[int, list[RuleSetVersion]] = defaultdict(list)
    versions = RuleSetVersion.objects.filter(
        Q(rule_set__committee_id__in=ids) | Q(rule_set__committee__isnull=True), effective_month__lte=months[-1]
    ).select_related("rule_set")
    rule_sets_by_id = {}
    for version in versions.order_by("rule_set_id", "effective_month"):
        history[version.rule_set_id].append(version)
        rule_sets_by_id[version.rule_set_id] = version.rule_set
    rule_sets = list(rule_sets_by_id.values())
    in_force: dict[tuple[int, datetime.date], RuleSetVersion] = {}
    for rule_set_id, chain in history.items():
        for month in months:
            current = next((v for v in reversed(chain) if v.effective_month <= month), None)
            if current is not None:
                in_force[(rule_set_id, month)] = current
    by_committee = {rs.committee_id: rs for rs in rule_sets if rs.committee_id is not None}
    default = [rs for rs in rule_sets if rs.committee_id is None]
    result: dict[tuple[int, datetime.date], RuleSetVersion | None] = {}
    # Units under the same rule sets (most of a tree) share one answer per month.
    answers: dict[tuple[int, ...], list[RuleSetVersion | None]] = {}
    for unit in units:
        chain = [*unit.ancestor_ids(), unit.pk]
        candidates = tuple(by_committee[i].pk for i in reversed(chain) if i in by_committee) + tuple(
            rs.pk for rs in default
        )
        answer = answers.get(candidates)
        if answer is None:
            answer = answers[candidates] = [
                next((in_force[(pk, month)] for pk in candidates if (pk, month) in in_force), None) for month in months
            ]
        pk = unit.pk
        for month, version in zip(months, answer, strict=True):
            result[(pk, month)] = version
    return result


def rule_version_for(*, unit: OrgUnit, month: datetime.date) -> RuleSetVersion:
    """The version in force for ``unit`` in ``month`` (see ``rule_versions_for``)."""
    version = rule_versions_for(units=[unit], month=month)[unit.pk]
    if version is None:
        raise ValidationError(
            _("No rule set is in force for %(unit)s in %(month)s.") % {"unit": unit.name, "month": month_label(month)}
        )
    return version


def _month_totals(*, member_ids: set[int], month: datetime.date, codes: set[str]) -> dict[tuple[int, str], Decimal]:
    """Points so far this month per (member, rule code), across rule versions."""
    rows = (
        LedgerEntry.objects.filter(member_id__in=member_ids, month=month, rule__code__in=codes)
        .values("member_id", "rule__code")
        .annotate(total=Sum("points"))
    )
    return {(row["member_id"], row["rule__code"]): row["total"] or Decimal("0") for row in rows}


def _apply_cap(*, rule: Rule, points: Decimal, so_far: Decimal, clip: bool) -> Decimal:
    if rule.monthly_cap is None or points <= 0:
        return points
    room = max(rule.monthly_cap - so_far, Decimal("0"))
    if points <= room:
        return points
    if clip:
        return room
    raise ValidationError(
        {
            "points": _(
                "%(rule)s is capped at %(cap)s points a month; this member has %(so_far)s already, so at most %(room)s more."
            )
            % {"rule": rule.name, "cap": rule.monthly_cap, "so_far": so_far, "room": room}
        }
    )


# Hook for the concurrency test: runs between reading the month's totals and writing.
_after_totals_read = None


@transaction.atomic
def ledger_entry_record(
    *,
    member: Member,
    rule: Rule,
    month: datetime.date,
    points: Decimal,
    reason: str,
    user: AbstractBaseUser | None,
    evidence: UploadedFile | None = None,
    source: str = Source.MANUAL,
    source_id: int | None = None,
) -> LedgerEntry:
    """A manual award or deduction by a secretary: points within the rule's range, a
    reason always, evidence where the rule asks for it, and never past the monthly cap."""
    month = first_of_month(month)
    month_assert_open(unit=member.branch, month=month)
    version = rule_version_for(unit=member.branch, month=month)
    if rule.version_id != version.pk:
        raise ValidationError({"rule": _("This rule is not in force for %(month)s.") % {"month": month_label(month)}})
    if rule.source == Source.ATTENDANCE:
        raise ValidationError({"rule": _("Attendance points are recorded through the activity's attendance.")})
    if rule.source in WORKFLOW_SOURCES:
        raise ValidationError(
            {"rule": _("%(rule)s is posted by its record's workflow, not by hand.") % {"rule": rule.name}}
        )
    if not member.is_active:
        raise ValidationError(_("%(member)s has left.") % {"member": member.name})
    if not rule.points_min <= points <= rule.points_max:
        raise ValidationError(
            {
                "points": _("%(rule)s allows %(low)s to %(high)s points.")
                % {"rule": rule.name, "low": rule.points_min, "high": rule.points_max}
            }
        )
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason.")})
    if rule.evidence_required and not evidence:
        raise ValidationError({"evidence": _("%(rule)s needs evidence: attach a photo or PDF.") % {"rule": rule.name}})
    if evidence:
        try:
            check_upload(evidence)
        except ValidationError as exc:
            raise ValidationError({"evidence": exc.messages}) from None
    if month > first_of_month(timezone.localdate()):
        raise ValidationError(
            {
                "month": _("Points are recorded for this month or earlier, not for %(month)s.")
                % {"month": month_label(month)}
            }
        )
    lock_member_months({(member.pk, month)})
    so_far = _month_totals(member_ids={member.pk}, month=month, codes={rule.code}).get(
        (member.pk, rule.code), Decimal("0")
    )
    if _after_totals_read is not None:
        _after_totals_read()
    points = _apply_cap(rule=rule, points=points, so_far=so_far, clip=False)
    return LedgerEntry.objects.create(
        member=member,
        branch=member.branch,
        month=month,
        rule=rule,
        rule_version=version,
        category=rule.category,
        points=points,
        source=source,
        source_id=source_id,
        evidence=evidence or "",
        reason=reason.strip(),
        recorded_by=user,
    )


def _reversal_of(entry: LedgerEntry, *, reason: str, user: AbstractBaseUser | None) -> LedgerEntry:
    return LedgerEntry(
        member_id=entry.member_id,
        branch_id=entry.branch_id,
        month=entry.month,
        rule_id=entry.rule_id,
        rule_version_id=entry.rule_version_id,
        category=entry.category,
        points=-entry.points,
        source=entry.source,
        source_id=entry.source_id,
        # The reversal belongs to the same step of the record as what it reverses.
        source_key=entry.source_key,
        reason=reason,
        reverses=entry,
        recorded_by=user,
    )


@transaction.atomic
def ledger_entry_reverse(*, entry: LedgerEntry, reason: str, user: AbstractBaseUser | None) -> LedgerEntry:
    """Correct a mistake: a new entry with the opposite points that points at the original."""
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason for the correction.")})
    if entry.is_reversal:
        raise ValidationError(_("A reversing entry cannot itself be reversed; record a new entry instead."))
    if entry.source == Source.ATTENDANCE:
        raise ValidationError(
            _("Points from attendance follow the attendance: change the attendance on the activity's page.")
        )
    if entry.source in WORKFLOW_SOURCES:
        raise ValidationError(
            _("These points follow their %(source)s: undo the step on its page.")
            % {"source": entry.get_source_display()}
        )
    month_assert_open(unit=entry.branch, month=entry.month)
    lock_member_months({(entry.member_id, entry.month)})
    if LedgerEntry.objects.filter(reverses=entry).exists():
        raise ValidationError(_("This entry has already been reversed."))
    reversal = _reversal_of(entry, reason=reason.strip(), user=user)
    reversal.save(force_insert=True)
    return reversal


def ledger_reverse_sources(
    *,
    source: str,
    source_ids: list[int],
    reason: str,
    user: AbstractBaseUser | None,
    source_key: str | None = None,
    open_months: Collection[tuple[int, datetime.date]] = (),
) -> int:
    """Reverse every standing entry produced by these sources (say, an activity's
    attendances) — with ``source_key``, only those that step posted (a project's
    milestone). Runs inside the caller's transaction; returns how many were reversed.
    A closed month refuses, naming the month; ``open_months`` are the (unit id, month)
    pairs the caller has already asserted open in this transaction (not asked again)."""
    standing = LedgerEntry.objects.filter(
        source=source, source_id__in=source_ids, reverses__isnull=True, reversed_by__isnull=True
    )
    if source_key is not None:
        standing = standing.filter(source_key=source_key)
    standing = list(standing.select_related("member__branch"))
    for member, month in {(e.member, e.month) for e in standing}:
        if (member.branch_id, month) not in open_months:
            month_assert_open(unit=member.branch, month=month)
    if not standing:
        return 0
    lock_member_months({(e.member_id, e.month) for e in standing})
    LedgerEntry.objects.bulk_create([_reversal_of(e, reason=reason, user=user) for e in standing])
    return len(standing)


@dataclass
class SourcePosting:
    """What ``ledger_post_source`` did: the entries it wrote, and the members it passed
    over with why (the rule is not in their version, or its monthly cap is full)."""

    entries: list[LedgerEntry]
    skipped: list[tuple[Member, str]]


@transaction.atomic
def ledger_post_source(
    *,
    members: list[Member],
    code: str,
    month: datetime.date,
    source: str,
    source_id: int,
    source_key: str,
    reason: str,
    user: AbstractBaseUser | None,
    points: Decimal | None = None,
) -> SourcePosting:
    """Post the rule ``code`` to each of ``members`` for a step of a record (a project's
    milestone, a suggestion's adoption): the rule of the version in force for each
    member's branch and ``month``, its fixed points (or ``points``, within its range),
    capped like any entry — a full cap posts what still fits, or nothing — and the
    month must be open (the refusal names it). Every entry carries ``source``,
    ``source_id`` and ``source_key``, so the record links to it and undoing the step
    reverses exactly these (``ledger_reverse_sources``)."""
    month = first_of_month(month)
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason.")})
    members = list({m.pk: m for m in members}.values())
    for unit_month in {(m.branch_id, month) for m in members}:
        branch = next(m.branch for m in members if m.branch_id == unit_month[0])
        month_assert_open(unit=branch, month=month)
    versions = rule_versions_for(units=[m.branch for m in members], month=month)
    rules = {
        (r.version_id, r.code): r
        for r in Rule.objects.filter(version__in={v.pk for v in versions.values() if v}, code=code)
    }
    lock_member_months({(m.pk, month) for m in members})
    so_far = _month_totals(member_ids={m.pk for m in members}, month=month, codes={code})
    entries, skipped = [], []
    for member in sorted(members, key=lambda m: m.pk):
        version = versions.get(member.branch_id)
        rule = rules.get((version.pk, code)) if version else None
        if rule is None:
            skipped.append(
                (member, _("the rule is not in the rules in force for %(month)s") % {"month": month_label(month)})
            )
            continue
        amount = rule.points_max if points is None else points
        if not rule.points_min <= amount <= rule.points_max:
            raise ValidationError(
                {
                    "points": _("%(rule)s allows %(low)s to %(high)s points.")
                    % {"rule": rule.name, "low": rule.points_min, "high": rule.points_max}
                }
            )
        amount = _apply_cap(rule=rule, points=amount, so_far=so_far.get((member.pk, code), Decimal("0")), clip=True)
        if amount == 0 and rule.points_max != 0:
            skipped.append((member, _("the monthly cap of %(rule)s is full") % {"rule": rule.name}))
            continue
        entries.append(
            LedgerEntry(
                member=member,
                branch_id=member.branch_id,
                month=month,
                rule=rule,
                rule_version=version,
                category=rule.category,
                points=amount,
                source=source,
                source_id=source_id,
                source_key=source_key,
                reason=reason.strip(),
                recorded_by=user,
            )
        )
    LedgerEntry.objects.bulk_create(entries)
    return SourcePosting(entries, skipped)


@dataclass(frozen=True)
class AttendanceItem:
    attendance_id: int
    member_id: int
    status: str


def _attendance_entries(
    *,
    branch: OrgUnit,
    month: datetime.date,
    version: RuleSetVersion,
    rules: list[Rule],
    class_hours: Decimal | None,
    items: list[AttendanceItem],
    so_far: dict[tuple[int, str], Decimal],
    reason: str,
    user: AbstractBaseUser | None,
) -> list[LedgerEntry]:
    """The entries ``items`` earn under ``rules``, capped against ``so_far`` (the
    month's points per (member, rule code), updated as entries are added)."""
    so_far = defaultdict(Decimal, so_far)
    entries = []
    for item in items:
        for rule in rules:
            if item.status not in rule.attendance_statuses:
                continue
            points = rule.points_min
            if rule.per_class_hour:
                if not class_hours:
                    continue
                points = (points * class_hours).quantize(Decimal("0.01"))
            points = _apply_cap(rule=rule, points=points, so_far=so_far[(item.member_id, rule.code)], clip=True)
            so_far[(item.member_id, rule.code)] += points
            entries.append(
                LedgerEntry(
                    member_id=item.member_id,
                    branch=branch,
                    month=month,
                    rule=rule,
                    rule_version=version,
                    category=rule.category,
                    points=points,
                    source=Source.ATTENDANCE,
                    source_id=item.attendance_id,
                    reason=reason,
                    recorded_by=user,
                )
            )
    return entries


def attendance_rules_in_force(
    *, branch: OrgUnit, activity_kind: str, activity_date: datetime.date
) -> tuple[RuleSetVersion, list[Rule]]:
    """The version in force for the activity's branch and month, and its attendance
    rules for the activity's kind (refuses where no rule set is in force)."""
    version = rule_version_for(unit=branch, month=first_of_month(activity_date))
    return version, [rule for rule in attendance_rules(version=version) if activity_kind in rule.activity_kinds]


def ledger_post_attendance(
    *,
    branch: OrgUnit,
    activity_kind: str,
    activity_date: datetime.date,
    class_hours: Decimal | None,
    items: list[AttendanceItem],
    reason: str,
    user: AbstractBaseUser | None,
    months_locked: bool = False,
) -> list[LedgerEntry]:
    """Post the points an activity's attendance earns, in one batch: the rules of the
    version in force whose kinds and statuses match. Capped rules are clipped to what is
    left of the month's cap (attendance is a fact; the cap limits the points, not the
    record). Runs inside the caller's transaction; ``months_locked``: the caller holds
    the members' month locks already (``lock_member_months``)."""
    month = first_of_month(activity_date)
    version, rules = attendance_rules_in_force(branch=branch, activity_kind=activity_kind, activity_date=activity_date)
    if not rules or not items:
        return []
    if not months_locked:
        lock_member_months({(item.member_id, month) for item in items})
    capped_codes = {rule.code for rule in rules if rule.monthly_cap is not None}
    so_far = (
        _month_totals(member_ids={i.member_id for i in items}, month=month, codes=capped_codes) if capped_codes else {}
    )
    entries = _attendance_entries(
        branch=branch,
        month=month,
        version=version,
        rules=rules,
        class_hours=class_hours,
        items=items,
        so_far=so_far,
        reason=reason,
        user=user,
    )
    return LedgerEntry.objects.bulk_create(entries)


def attendance_standing_entries(*, attendance_id: int) -> list[LedgerEntry]:
    """The attendance's entries not yet reversed, with their rules' codes (for caps)."""
    return list(
        LedgerEntry.objects.filter(
            source=Source.ATTENDANCE, source_id=attendance_id, reverses__isnull=True, reversed_by__isnull=True
        ).select_related("rule")
    )


def ledger_repost_attendance(
    *,
    branch: OrgUnit,
    activity_kind: str,
    activity_date: datetime.date,
    class_hours: Decimal | None,
    item: AttendanceItem,
    standing: list[LedgerEntry],
    version: RuleSetVersion,
    rules: list[Rule],
    reason: str,
    reversal_reason: str,
    user: AbstractBaseUser | None,
) -> list[LedgerEntry]:
    """One attendance changed: reverse its ``standing`` entries and post what it earns
    now (``rules`` of ``version``, from ``attendance_rules_in_force``), in one INSERT;
    returns the new entries. Nothing is updated: the reversals point at what they
    reverse. The caller holds the member's month lock (``lock_member_months``), read
    ``standing`` under it (``attendance_standing_entries``) and asserted the months
    open. A capped rule is clipped to what is left of the month once the standing
    entries are reversed, as if the reversals were written first."""
    month = first_of_month(activity_date)
    if not class_hours:
        rules = [rule for rule in rules if not rule.per_class_hour]
    rules = [rule for rule in rules if item.status in rule.attendance_statuses]
    capped_codes = {rule.code for rule in rules if rule.monthly_cap is not None}
    so_far: dict[tuple[int, str], Decimal] = {}
    if capped_codes:
        so_far = defaultdict(Decimal, _month_totals(member_ids={item.member_id}, month=month, codes=capped_codes))
        for entry in standing:
            if entry.month == month and entry.rule.code in capped_codes:
                so_far[(entry.member_id, entry.rule.code)] -= entry.points
    reversals = [_reversal_of(entry, reason=reversal_reason, user=user) for entry in standing]
    posted = _attendance_entries(
        branch=branch,
        month=month,
        version=version,
        rules=rules,
        class_hours=class_hours,
        items=[item],
        so_far=so_far,
        reason=reason,
        user=user,
    )
    if reversals or posted:
        LedgerEntry.objects.bulk_create([*reversals, *posted])
    return posted
