"""The default rule set of PRODUCT.md's appendix: what a fresh installation starts with.

Installed by migration ``ledger.0002``. Kept here, not inside the migration, so tests
that flush the database (transactional and browser tests) can put it back.
"""

import datetime
from decimal import Decimal

MEETINGS = ["general_meeting", "committee_meeting", "group_meeting", "party_lecture", "themed_day"]

# code, name, category, source, activity kinds, statuses, min, max, per class hour, cap, evidence
DEFAULT_RULES = [
    (
        "org_present",
        "参加三会一课或主题党日",
        "org_life",
        "attendance",
        MEETINGS,
        ["present"],
        "2",
        "2",
        False,
        None,
        False,
    ),
    ("org_late", "三会一课或主题党日迟到", "org_life", "attendance", MEETINGS, ["late"], "1", "1", False, None, False),
    (
        "org_excused",
        "三会一课或主题党日请假",
        "org_life",
        "attendance",
        MEETINGS,
        ["excused"],
        "0",
        "0",
        False,
        None,
        False,
    ),
    (
        "org_absent",
        "无故缺席三会一课或主题党日",
        "deduction",
        "attendance",
        MEETINGS,
        ["absent"],
        "-2",
        "-2",
        False,
        None,
        False,
    ),
    (
        "training_hour",
        "参加学习培训（每学时）",
        "training",
        "attendance",
        ["training"],
        ["present", "late"],
        "1",
        "1",
        True,
        "10",
        False,
    ),
    ("study_task", "完成当月政治理论学习任务", "political", "manual", [], [], "3", "3", False, "3", False),
    (
        "volunteer",
        "参加志愿服务或党员突击队",
        "exemplary",
        "attendance",
        ["volunteer"],
        ["present", "late"],
        "3",
        "3",
        False,
        "9",
        False,
    ),
    ("exemplary_award", "示范引领表彰（须附凭证）", "exemplary", "manual", [], [], "1", "10", False, None, True),
    ("commitment_met", "承诺践诺节点完成", "duty", "commitment", [], [], "5", "5", False, None, False),
    ("commitment_partly", "承诺事项部分完成", "duty", "commitment", [], [], "2", "2", False, None, False),
    ("suggestion_adopted", "合理化建议被采纳", "duty", "suggestion", [], [], "2", "2", False, None, False),
    ("suggestion_implemented", "合理化建议实施", "duty", "suggestion", [], [], "5", "5", False, None, False),
    ("deduction", "违反纪律或履职不到位扣分", "deduction", "manual", [], [], "-10", "-1", False, None, False),
    # 党建攻关项目 (seeds 000, 001, 004): posted by the project's workflow, never by hand.
    ("project_milestone", "攻关项目节点通过验收", "exemplary", "project", [], [], "3", "3", False, "9", False),
    ("project_grade_1", "攻关项目年度评定一等", "exemplary", "project", [], [], "10", "10", False, None, False),
    ("project_grade_2", "攻关项目年度评定二等", "exemplary", "project", [], [], "6", "6", False, None, False),
    ("project_grade_3", "攻关项目年度评定三等", "exemplary", "project", [], [], "3", "3", False, None, False),
    ("project_value_10", "攻关项目创效10万元以上", "exemplary", "project", [], [], "2", "2", False, None, False),
    ("project_value_50", "攻关项目创效50万元以上", "exemplary", "project", [], [], "5", "5", False, None, False),
    ("project_value_100", "攻关项目创效100万元以上", "exemplary", "project", [], [], "8", "8", False, None, False),
]

# The value bands of the project rules above: code → from how many 万元 created.
DEFAULT_THRESHOLDS = {"project_value_10": "10", "project_value_50": "50", "project_value_100": "100"}
# Rules added after the first installation, and the migration that added them to every
# version that lacked them (ledger 0007).
PROJECT_CODES = [row[0] for row in DEFAULT_RULES if row[0].startswith("project_")]
# …and the one for a commitment partly met (ledger 0009).
COMMITMENT_CODES = ["commitment_partly"]


# kind, frequency, once per party group, due month (yearly): the appendix's 三会一课 and
# 主题党日, and the yearly 组织生活会 and 民主评议党员 (seed 003), due by December.
DEFAULT_REQUIREMENTS = [
    ("committee_meeting", "monthly", False, None),
    ("group_meeting", "monthly", True, None),
    ("themed_day", "monthly", False, None),
    ("general_meeting", "quarterly", False, None),
    ("party_lecture", "quarterly", False, None),
    ("org_life_meeting", "yearly", False, 12),
    ("democratic_review", "yearly", False, 12),
]


def install_default_requirements(apps, version) -> None:
    """The default meeting requirements for ``version`` (one without any)."""
    MeetingRequirement = apps.get_model("ledger", "MeetingRequirement")
    MeetingRequirement.objects.bulk_create(
        MeetingRequirement(
            version_id=version.pk, kind=kind, frequency=frequency, per_group=per_group, due_month=due, sort_order=i
        )
        for i, (kind, frequency, per_group, due) in enumerate(DEFAULT_REQUIREMENTS)
    )


def install_default_rule_rows(apps, version, *, codes: list[str] | None) -> None:
    """The default rules (those of ``codes``, or all) in ``version``. The model of an
    early migration has no thresholds yet; the migration that added them fills them in."""
    Rule = apps.get_model("ledger", "Rule")
    has_threshold = any(f.name == "threshold" for f in Rule._meta.get_fields())
    Rule.objects.bulk_create(
        Rule(
            version_id=version.pk,
            code=code,
            name=name,
            category=category,
            source=source,
            activity_kinds=kinds,
            attendance_statuses=statuses,
            points_min=Decimal(low),
            points_max=Decimal(high),
            per_class_hour=per_hour,
            monthly_cap=Decimal(cap) if cap else None,
            evidence_required=evidence,
            sort_order=i,
            **(
                {"threshold": Decimal(DEFAULT_THRESHOLDS[code])} if has_threshold and code in DEFAULT_THRESHOLDS else {}
            ),
        )
        for i, (code, name, category, source, kinds, statuses, low, high, per_hour, cap, evidence) in enumerate(
            DEFAULT_RULES
        )
        if codes is None or code in codes
    )


def install_default_rules(apps) -> None:
    """Create the default rule set; ``apps`` is a migration's app registry or the real one."""
    RuleSet = apps.get_model("ledger", "RuleSet")
    RuleSetVersion = apps.get_model("ledger", "RuleSetVersion")
    rule_set = RuleSet.objects.create(name="默认积分规则", committee=None)
    version = RuleSetVersion.objects.create(
        rule_set=rule_set,
        number=1,
        effective_month=datetime.date(2000, 1, 1),
        yearly_training_hours=Decimal("40"),
        note="PRODUCT.md 附录：默认规则",
    )
    install_default_rule_rows(apps, version, codes=None)
    try:
        apps.get_model("ledger", "MeetingRequirement")
    except LookupError:
        return  # migration 0002's state: 0005 adds the requirements to every version
    install_default_requirements(apps, version)
