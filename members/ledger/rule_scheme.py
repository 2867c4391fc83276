"""What a new rule-set version may hold, checked: its grading parameters, meeting
requirements, scored sub-items and rules (changed, added or retired).

Pure functions over values and the base version's rows, no queries: each builds the
unsaved rows of the new version and adds every problem it finds to one ``errors`` dict,
keyed as the form names its fields, so ``rule_set_version_create`` raises them all at
once and the form shows each next to its value:

* a parameter by its field name (``weight_basics``), a sum by its group (``weights``,
  ``group_weights``);
* a rule by ``rules-<code>-<field>`` (``rules-<key>-<field>`` for a new one), the list by
  ``rules``;
* a requirement by ``requirements-<key>-<field>``, the list by ``requirements``;
* a scored item by ``items-<key>-<field>``, a dimension's items by ``items-<dimension>``,
  the list by ``score_items``.

Codes are generated here, never typed: ``<category>_<n>`` for rules and
``<dimension>_<n>`` for items, skipping every code the rule set ever used, so the entries
and scores of a retired rule or item stay unambiguous.
"""

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

from branches.choices import ActivityKind, AttendanceStatus, Dimension

from .models import Category, Frequency, MeetingRequirement, Rule, RuleSetVersion, ScoreItem, Source

Errors = dict[str, list[str]]

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
    # A value band's amount (project_value_*): a new version without it would never post the band.
    "threshold",
)
# What a new rule is given; its code and sort order are the service's.
NEW_RULE_FIELDS = (
    "category",
    "name",
    "source",
    "activity_kinds",
    "attendance_statuses",
    "per_class_hour",
    "points_min",
    "points_max",
    "monthly_cap",
    "evidence_required",
)
REQUIREMENT_FIELDS = ("kind", "frequency", "per_group", "due_month")
ITEM_FIELDS = ("dimension", "name", "max_score")

WEIGHT_FIELDS = (
    "weight_basics",
    "weight_committee_work",
    "weight_production",
    "weight_membership",
    "weight_other",
)
STAR_FIELDS = ("star5_from", "star4_from", "star3_from", "star2_from")
YEAR_STAR_FIELDS = ("year_star5_from", "year_star4_from", "year_star3_from", "year_star2_from")
GRADE_FIELDS = ("grade_advanced_from", "grade_standard_from")
GROUP_WEIGHT_FIELDS = ("group_weight_points", "group_weight_meetings")
GROUP_STAR_FIELDS = ("group_star5_from", "group_star4_from", "group_star3_from", "group_star2_from")
NULLABLE_PARAMETERS = frozenset(YEAR_STAR_FIELDS)
HUNDRED = Decimal("100")


def rule_field_key(code: str, field: str) -> str:
    """The key of a rule's value in forms and in ``ValidationError``: ``rules-<code>-<field>``."""
    return f"rules-{code}-{field}"


def add_error(errors: Errors, key: str, message: str) -> None:
    errors.setdefault(key, []).append(message)


# ---------------------------------------------------------------------------------------
# Values as the caller gives them (the form's cleaned data, or strings in tests)
# ---------------------------------------------------------------------------------------


def to_decimal(value: Any) -> Decimal | None:
    """``value`` as a finite Decimal; None for empty; ValueError for anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(value) from exc
    if not number.is_finite():
        raise ValueError(value)
    return number


def to_integer(value: Any) -> int | None:
    """``value`` as an int; None for empty; ValueError for a fraction or anything else."""
    number = to_decimal(value)
    if number is None:
        return None
    if number != number.to_integral_value() or abs(number) > 10**9:
        raise ValueError(value)
    return int(number)


def to_codes(value: Any) -> list[str]:
    """A list of choice values (activity kinds, statuses): None or "" is empty."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _format(number: Decimal) -> str:
    """A Decimal without trailing zeros: 100, 99.5."""
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# ---------------------------------------------------------------------------------------
# Grading parameters
# ---------------------------------------------------------------------------------------


def scheme_parameters(*, base: RuleSetVersion, values: Mapping[str, Any] | None, errors: Errors) -> dict[str, Any]:
    """The grading parameters of the new version: ``base``'s, with ``values`` (any of
    ``RuleSetVersion.GRADING_FIELDS``) instead. Problems are added to ``errors``."""
    values = dict(values or {})
    unknown = set(values) - set(RuleSetVersion.GRADING_FIELDS)
    if unknown:
        raise ValueError(f"Not a grading parameter: {', '.join(sorted(unknown))}")
    result: dict[str, Any] = {field: getattr(base, field) for field in RuleSetVersion.GRADING_FIELDS}
    for field, raw in values.items():
        model_field = RuleSetVersion._meta.get_field(field)
        if isinstance(model_field, models.BooleanField):
            result[field] = bool(raw)
            continue
        try:
            value = to_decimal(raw) if isinstance(model_field, models.DecimalField) else to_integer(raw)
        except ValueError:
            add_error(
                errors,
                field,
                _("Enter a number.") if isinstance(model_field, models.DecimalField) else _("Enter a whole number."),
            )
            result[field] = None
            continue
        if value is None and field not in NULLABLE_PARAMETERS:
            add_error(errors, field, _("This field is required."))
        result[field] = value

    def ok(*fields: str) -> bool:
        """Every field has a value and no error yet."""
        return all(result[f] is not None and f not in errors for f in fields)

    def within(fields: Iterable[str], low: Decimal, high: Decimal | None, message: str) -> None:
        for f in fields:
            if ok(f) and (result[f] < low or (high is not None and result[f] > high)):
                add_error(errors, f, message)

    def descending(fields: tuple[str, ...]) -> None:
        for upper, lower in zip(fields, fields[1:], strict=False):
            if ok(upper, lower) and result[lower] >= result[upper]:
                add_error(errors, lower, _("Each band must start lower than the one above it."))

    def adds_to_100(fields: tuple[str, ...], key: str) -> None:
        if ok(*fields):
            total = sum((result[f] for f in fields), Decimal("0"))
            if total != HUNDRED:
                add_error(
                    errors,
                    key,
                    _("The weights add up to %(total)s; they must add up to exactly 100.") % {"total": _format(total)},
                )

    percentage = _("Enter a percentage from 0 to 100.")
    within(WEIGHT_FIELDS, Decimal("0"), HUNDRED, percentage)
    adds_to_100(WEIGHT_FIELDS, "weights")
    descending(STAR_FIELDS)

    # A year's bands: all four, or none (then twelve times the month's).
    given = [f for f in YEAR_STAR_FIELDS if result[f] is not None or f in errors]
    if given and len(given) < len(YEAR_STAR_FIELDS):
        for f in YEAR_STAR_FIELDS:
            if f not in given:
                add_error(errors, f, _("Set all four bands for a year, or leave all four empty."))
    elif given:
        descending(YEAR_STAR_FIELDS)

    within(GRADE_FIELDS, Decimal("0"), HUNDRED, _("Enter a score from 0 to 100."))
    if ok(*GRADE_FIELDS) and result["grade_standard_from"] >= result["grade_advanced_from"]:
        add_error(errors, "grade_standard_from", _("Up to standard must start below advanced."))
    if ok("bottom_three_count") and result["bottom_three_count"] < 1:
        add_error(errors, "bottom_three_count", _("Flag at least one branch."))
    if ok("bottom_three_limit") and result["bottom_three_limit"] < 0:
        add_error(errors, "bottom_three_limit", _("Enter 0 or more."))
    if ok("themed_day") and not 1 <= result["themed_day"] <= 31:
        add_error(errors, "themed_day", _("Enter a day of the month, 1 to 31."))
    within(("cadre_training_hours",), Decimal("0"), None, _("Enter 0 or more hours."))
    within(GROUP_WEIGHT_FIELDS, Decimal("0"), HUNDRED, percentage)
    adds_to_100(GROUP_WEIGHT_FIELDS, "group_weights")
    within(GROUP_STAR_FIELDS, Decimal("0"), HUNDRED, _("Enter a score from 0 to 100."))
    descending(GROUP_STAR_FIELDS)
    for f in ("commitment_mid_check", "commitment_final_check"):
        if ok(f) and not 1 <= result[f] <= 12:
            add_error(errors, f, _("Enter a month, 1 to 12."))
    if (
        ok("commitment_mid_check", "commitment_final_check")
        and result["commitment_mid_check"] >= result["commitment_final_check"]
    ):
        add_error(errors, "commitment_mid_check", _("The mid-year check comes before the year-end check."))
    within(("review_excellent_share",), Decimal("0"), HUNDRED, percentage)
    if ok("review_unqualified_stars") and not 1 <= result["review_unqualified_stars"] <= 5:
        add_error(errors, "review_unqualified_stars", _("Enter 1 to 5 stars."))
    return result


def entered_dimensions(parameters: Mapping[str, Any]) -> tuple[str, ...]:
    """The dimensions the committee enters under ``parameters`` (as the model's property)."""
    return RuleSetVersion(
        basics_entered=bool(parameters["basics_entered"]), membership_entered=bool(parameters["membership_entered"])
    ).entered_dimensions


# ---------------------------------------------------------------------------------------
# Codes
# ---------------------------------------------------------------------------------------


def next_code(prefix: str, used: set[str]) -> str:
    """The first ``<prefix>_<n>`` not in ``used`` (which it joins)."""
    n = 1
    while f"{prefix}_{n}" in used:
        n += 1
    code = f"{prefix}_{n}"
    used.add(code)
    return code


# ---------------------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------------------


def _check_rule(rule: Rule, add, *, label: str) -> None:
    """What any rule must satisfy: a name, a sane points range for its category and
    source, a positive cap or none."""
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
        if rule.category and rule.category != Category.DEDUCTION and rule.points_min < 0:
            add("points_min", _("%(rule)s is not a deduction: its points cannot be below 0.") % {"rule": label})
    if rule.monthly_cap is not None and rule.monthly_cap <= 0:
        add("monthly_cap", _("A monthly cap must be above 0; leave it empty for no cap."))


def _clean_rule_fields(rule: Rule, add, *, failed: set[str], exclude: Iterable[str] = ()) -> None:
    """Lengths and digits as the database stores them."""
    try:
        rule.clean_fields(exclude=["version", "code", *exclude, *failed])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            for message in messages:
                add(field, message)


def _read_number(values: dict[str, Any], field: str, raw: Any, add) -> bool:
    try:
        values[field] = to_decimal(raw)
    except ValueError:
        add(field, _("Enter a number."))
        values[field] = None
        return False
    return True


def edited_rule(base: Rule, edit: Mapping[str, Any], errors: Errors) -> Rule:
    """A copy of ``base`` with ``edit``'s values (any of ``EDITABLE_FIELDS``)."""
    code = base.code
    failed: set[str] = set()

    def add(field: str, message: str) -> None:
        failed.add(field)
        add_error(errors, rule_field_key(code, field), message)

    values: dict[str, Any] = {field: getattr(base, field) for field in EDITABLE_FIELDS}
    for field in EDITABLE_FIELDS:
        if field not in edit:
            continue
        value = edit[field]
        if field in ("points_min", "points_max", "monthly_cap"):
            _read_number(values, field, value, add)
            continue
        if field == "name":
            value = (value or "").strip()
        elif field == "evidence_required":
            value = bool(value)
        values[field] = value
    rule = Rule(**{field: getattr(base, field) for field in COPIED_FIELDS}, **values)
    _check_rule(rule, add, label=rule.name or code)
    _clean_rule_fields(rule, add, failed=failed)
    return rule


def new_rule(row: Mapping[str, Any], *, key: str, errors: Errors) -> Rule:
    """A rule to add, from ``row`` (``NEW_RULE_FIELDS``); its code and order come later."""
    failed: set[str] = set()

    def add(field: str, message: str) -> None:
        failed.add(field)
        add_error(errors, rule_field_key(key, field), message)

    values: dict[str, Any] = {}
    for field in ("points_min", "points_max", "monthly_cap"):
        _read_number(values, field, row.get(field), add)
    category = str(row.get("category") or "")
    if category not in Category.values:
        add("category", _("Choose a category."))
    source = str(row.get("source") or "")
    if source not in Source.values:
        add("source", _("Choose which source may post it."))
    kinds, statuses = to_codes(row.get("activity_kinds")), to_codes(row.get("attendance_statuses"))
    per_class_hour = bool(row.get("per_class_hour"))
    if source == Source.ATTENDANCE:
        if not kinds or not set(kinds) <= set(ActivityKind.values):
            add("activity_kinds", _("Choose the activities whose attendance earns it."))
        if not statuses or not set(statuses) <= set(AttendanceStatus.values):
            add("attendance_statuses", _("Choose the attendance that earns it."))
    elif source:
        if kinds:
            add("activity_kinds", _("Only a rule posted from attendance names activities."))
        if statuses:
            add("attendance_statuses", _("Only a rule posted from attendance names attendance."))
        if per_class_hour:
            add("per_class_hour", _("Only a rule posted from attendance counts per class hour."))
    rule = Rule(
        category=category,
        name=str(row.get("name") or "").strip(),
        source=source,
        activity_kinds=sorted(set(kinds)),
        attendance_statuses=sorted(set(statuses)),
        per_class_hour=per_class_hour,
        evidence_required=bool(row.get("evidence_required")),
        **values,
    )
    _check_rule(rule, add, label=rule.name or _("The new rule"))
    _clean_rule_fields(rule, add, failed=failed, exclude=["sort_order"])
    return rule


def scheme_rules(
    *, base_rules: list[Rule], rows: Iterable[Mapping[str, Any]], used_codes: set[str], errors: Errors
) -> list[Rule]:
    """The rules of the new version: ``base_rules`` changed or retired by the rows that
    name their ``code``, then a new rule for each row without one."""
    edits: dict[Any, Mapping[str, Any]] = {}
    additions: list[tuple[str, Mapping[str, Any]]] = []
    for row in rows:
        code = row.get("code")
        if code in (None, ""):
            additions.append((str(row.get("key", f"new{len(additions)}")), row))
            continue
        if code in edits:
            add_error(errors, "rules", _("The rule %(code)s is given twice.") % {"code": code})
        edits[code] = row
    unknown = set(edits) - {rule.code for rule in base_rules}
    if unknown:
        add_error(
            errors, "rules", _("There is no rule %(code)s to change.") % {"code": ", ".join(sorted(map(str, unknown)))}
        )
    rules = [
        edited_rule(rule, edits.get(rule.code, {}), errors)
        for rule in base_rules
        if not edits.get(rule.code, {}).get("retire")
    ]
    order = max((rule.sort_order for rule in base_rules), default=-1) + 1
    for i, (key, row) in enumerate(additions):
        rule = new_rule(row, key=key, errors=errors)
        rule.sort_order = order + i
        if rule.category in Category.values:
            rule.code = next_code(rule.category, used_codes)
        rules.append(rule)
    return rules


# ---------------------------------------------------------------------------------------
# Meeting requirements
# ---------------------------------------------------------------------------------------


def scheme_requirements(*, rows: Iterable[Mapping[str, Any]], errors: Errors) -> list[MeetingRequirement]:
    """The meeting requirements of the new version, one per activity kind, in order."""
    requirements = []
    seen: set[str] = set()
    for i, row in enumerate(rows):
        key = str(row.get("key", i))

        def add(field: str, message: str, key=key) -> None:
            add_error(errors, f"requirements-{key}-{field}", message)

        kind = str(row.get("kind") or "")
        if kind not in ActivityKind.values:
            add("kind", _("Choose an activity."))
        elif kind in seen:
            add(
                "kind",
                _("%(kind)s is required twice: one row per activity.") % {"kind": ActivityKind(kind).label},
            )
        seen.add(kind)
        frequency = str(row.get("frequency") or "")
        if frequency not in Frequency.values:
            add("frequency", _("Choose how often."))
        per_group = bool(row.get("per_group"))
        if per_group and kind != ActivityKind.GROUP_MEETING:
            add("per_group", _("Only party group meetings are held once per party group."))
        try:
            due_month = to_integer(row.get("due_month"))
        except ValueError:
            add("due_month", _("Enter a whole number."))
            due_month = None
        else:
            if frequency == Frequency.YEARLY and (due_month is None or not 1 <= due_month <= 12):
                add("due_month", _("A yearly requirement is due by a month, 1 to 12."))
            elif frequency != Frequency.YEARLY and due_month is not None:
                add("due_month", _("Only a yearly requirement has a month it is due by."))
        requirements.append(
            MeetingRequirement(kind=kind, frequency=frequency, per_group=per_group, due_month=due_month, sort_order=i)
        )
    return requirements


# ---------------------------------------------------------------------------------------
# Scored sub-items
# ---------------------------------------------------------------------------------------


def scheme_items(
    *,
    rows: Iterable[Mapping[str, Any]],
    base_items: list[ScoreItem],
    entered: tuple[str, ...],
    used_codes: set[str],
    errors: Errors,
) -> list[ScoreItem]:
    """The scored sub-items of the new version: a row with the ``code`` of one of
    ``base_items`` keeps it (renamed or re-weighted), one without adds an item. Only
    the ``entered`` dimensions have items, and a dimension's items add up to 100."""
    by_code = {item.code: item for item in base_items}
    items: list[ScoreItem] = []
    kept: set[str] = set()
    for i, row in enumerate(rows):
        key = str(row.get("key", i))

        def add(field: str, message: str, key=key) -> None:
            add_error(errors, f"items-{key}-{field}", message)

        code = str(row.get("code") or "")
        dimension = str(row.get("dimension") or "")
        if code:
            base = by_code.get(code)
            if base is None or code in kept:
                add_error(errors, "score_items", _("There is no scored item %(code)s to keep.") % {"code": code})
                continue
            kept.add(code)
            if dimension and dimension != base.dimension:
                add("dimension", _("A scored item stays in its dimension: add a new item instead."))
            dimension = base.dimension
        if dimension not in Dimension.values:
            add("dimension", _("Choose a dimension."))
        name = str(row.get("name") or "").strip()
        if not name:
            add("name", _("Give the item a name."))
        try:
            max_score = to_decimal(row.get("max_score"))
        except ValueError:
            add("max_score", _("Enter a number."))
            max_score = None
        else:
            if max_score is None or not Decimal("0") < max_score <= HUNDRED:
                add("max_score", _("An item's maximum is above 0 and at most 100."))
                max_score = None
        fed_by = str(row.get("fed_by") or "")
        if fed_by not in ScoreItem.FedBy.values:
            add("fed_by", _("Choose where the item's score comes from."))
            fed_by = ""
        item = ScoreItem(dimension=dimension, code=code, name=name, max_score=max_score, sort_order=i, fed_by=fed_by)
        try:
            item.clean_fields(exclude=["version", "code", "dimension", *(["max_score"] if max_score is None else [])])
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    add(field, message)
        items.append(item)

    totals: dict[str, Decimal | None] = {}
    for item in items:
        if item.dimension in Dimension.values:
            total = totals.get(item.dimension, Decimal("0"))
            totals[item.dimension] = None if total is None or item.max_score is None else total + item.max_score
    for dimension, total in totals.items():
        label = Dimension(dimension).label
        if dimension not in entered:
            add_error(
                errors,
                f"items-{dimension}",
                _(
                    "%(dimension)s is computed in this version, so it has no scored items: remove them, "
                    "or have the committee enter it."
                )
                % {"dimension": label},
            )
        elif total is not None and total != HUNDRED:
            add_error(
                errors,
                f"items-{dimension}",
                _("The items of %(dimension)s add up to %(total)s; they must add up to exactly 100.")
                % {"dimension": label, "total": _format(total)},
            )
    for item in items:
        if not item.code and item.dimension in Dimension.values:
            item.code = next_code(item.dimension, used_codes)
    return items
