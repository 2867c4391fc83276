"""The default rule set the data migration installs is PRODUCT.md's appendix, number for number.

Tests that flush the database put the set back through the same function the migration
calls (tests/conftest.py); the last test here runs the migration's own step again.
"""

import datetime
import importlib
from decimal import Decimal

import pytest
from django.apps import apps

from branches.choices import MEETING_KINDS, ActivityKind
from members.ledger.models import Category, Rule, RuleSet, Source
from members.ledger.services import rule_set_for, rule_version_for

pytestmark = pytest.mark.django_db

MEETINGS = sorted(MEETING_KINDS)
ATTENDED = ["late", "present"]
D = Decimal

# code: (category, source, activity kinds, statuses, min, max, per class hour, monthly cap, evidence)
APPENDIX = {
    # 组织生活: attended a 三会一课 meeting or 主题党日 +2, late +1, excused 0, absent −2 (扣分)
    "org_present": (Category.ORG_LIFE, Source.ATTENDANCE, MEETINGS, ["present"], D(2), D(2), False, None, False),
    "org_late": (Category.ORG_LIFE, Source.ATTENDANCE, MEETINGS, ["late"], D(1), D(1), False, None, False),
    "org_excused": (Category.ORG_LIFE, Source.ATTENDANCE, MEETINGS, ["excused"], D(0), D(0), False, None, False),
    "org_absent": (Category.DEDUCTION, Source.ATTENDANCE, MEETINGS, ["absent"], D(-2), D(-2), False, None, False),
    # 学习培训: +1 per class hour of logged training [cap 10 a month]
    "training_hour": (
        Category.TRAINING,
        Source.ATTENDANCE,
        [ActivityKind.TRAINING],
        ATTENDED,
        D(1),
        D(1),
        True,
        D(10),
        False,
    ),
    # 政治思想: completed the month's study task +3 [cap 3]
    "study_task": (Category.POLITICAL, Source.MANUAL, [], [], D(3), D(3), False, D(3), False),
    # 示范引领: shock-team / volunteer work +3 per occasion [cap 9]; an award with evidence +1 to +10
    "volunteer": (
        Category.EXEMPLARY,
        Source.ATTENDANCE,
        [ActivityKind.VOLUNTEER],
        ATTENDED,
        D(3),
        D(3),
        False,
        D(9),
        False,
    ),
    "exemplary_award": (Category.EXEMPLARY, Source.MANUAL, [], [], D(1), D(10), False, None, True),
    # 履职尽责: commitment milestone met +5; suggestion adopted +2, implemented +5 more
    "commitment_met": (Category.DUTY, Source.COMMITMENT, [], [], D(5), D(5), False, None, False),
    "commitment_partly": (Category.DUTY, Source.COMMITMENT, [], [], D(2), D(2), False, None, False),
    "suggestion_adopted": (Category.DUTY, Source.SUGGESTION, [], [], D(2), D(2), False, None, False),
    "suggestion_implemented": (Category.DUTY, Source.SUGGESTION, [], [], D(5), D(5), False, None, False),
    # 扣分: entered by the secretary with a reason, −1 to −10
    "deduction": (Category.DEDUCTION, Source.MANUAL, [], [], D(-10), D(-1), False, None, False),
    # 党建攻关项目 (issue 10): a node accepted +3 [cap 9]; the year-end grade +10 / +6 / +3;
    # value created in bands from 10 / 50 / 100 万元: +2 / +5 / +8.
    "project_milestone": (Category.EXEMPLARY, Source.PROJECT, [], [], D(3), D(3), False, D(9), False),
    "project_grade_1": (Category.EXEMPLARY, Source.PROJECT, [], [], D(10), D(10), False, None, False),
    "project_grade_2": (Category.EXEMPLARY, Source.PROJECT, [], [], D(6), D(6), False, None, False),
    "project_grade_3": (Category.EXEMPLARY, Source.PROJECT, [], [], D(3), D(3), False, None, False),
    "project_value_10": (Category.EXEMPLARY, Source.PROJECT, [], [], D(2), D(2), False, None, False),
    "project_value_50": (Category.EXEMPLARY, Source.PROJECT, [], [], D(5), D(5), False, None, False),
    "project_value_100": (Category.EXEMPLARY, Source.PROJECT, [], [], D(8), D(8), False, None, False),
}


def test_the_value_bands_start_at_10_50_and_100_wan_yuan():
    rules = default_rules()
    assert {code: rules[code].threshold for code in rules if rules[code].threshold is not None} == {
        "project_value_10": D(10),
        "project_value_50": D(50),
        "project_value_100": D(100),
    }


def default_rules() -> dict[str, Rule]:
    rule_set = RuleSet.objects.get(committee__isnull=True)
    (version,) = rule_set.versions.all()
    return {rule.code: rule for rule in version.rules.all()}


def test_a_fresh_installation_has_exactly_one_rule_set_the_default_with_one_version():
    (rule_set,) = RuleSet.objects.all()
    assert rule_set.committee is None
    (version,) = rule_set.versions.all()
    assert version.number == 1
    assert version.effective_month == datetime.date(2000, 1, 1)
    # 学习培训: at least 40 class hours a member a year.
    assert version.yearly_training_hours == Decimal("40")


def test_the_default_rules_are_the_appendix_rule_by_rule():
    rules = default_rules()
    assert set(rules) == set(APPENDIX)
    for code, expected in APPENDIX.items():
        rule = rules[code]
        actual = (
            rule.category,
            rule.source,
            sorted(rule.activity_kinds),
            sorted(rule.attendance_statuses),
            rule.points_min,
            rule.points_max,
            rule.per_class_hour,
            rule.monthly_cap,
            rule.evidence_required,
        )
        assert actual == (
            expected[0],
            expected[1],
            sorted(expected[2]),
            sorted(expected[3]),
            *expected[4:],
        ), code
        assert rule.name, code


def test_the_caps_are_10_3_and_9_and_nothing_else_is_capped():
    caps = {code: rule.monthly_cap for code, rule in default_rules().items() if rule.monthly_cap is not None}
    # The appendix's three, and the project nodes (three accepted nodes a month at most).
    assert caps == {"training_hour": D(10), "study_task": D(3), "volunteer": D(9), "project_milestone": D(9)}


def test_only_the_award_needs_evidence_and_only_training_counts_per_class_hour():
    rules = default_rules().values()
    assert [r.code for r in rules if r.evidence_required] == ["exemplary_award"]
    assert [r.code for r in rules if r.per_class_hour] == ["training_hour"]


def test_the_six_categories_are_all_used_and_deductions_are_never_positive():
    rules = default_rules().values()
    assert {r.category for r in rules} == set(Category.values)
    for rule in rules:
        if rule.category == Category.DEDUCTION:
            assert rule.points_max <= 0, rule.code
        else:
            assert rule.points_min >= 0, rule.code


def test_attendance_rules_are_fixed_and_manual_awards_are_ranges():
    rules = default_rules()
    for rule in rules.values():
        if rule.source == Source.ATTENDANCE:
            assert rule.is_fixed, rule.code
    assert (rules["exemplary_award"].points_min, rules["exemplary_award"].points_max) == (D(1), D(10))
    assert (rules["deduction"].points_min, rules["deduction"].points_max) == (D(-10), D(-1))


def test_every_unit_follows_the_default_rules_until_a_committee_customises(tree):
    default = RuleSet.objects.get(committee__isnull=True)
    for unit in (tree.root, tree.plant, tree.branch_a, tree.group_a1, tree.branch_x):
        assert rule_set_for(unit=unit) == default
    assert rule_version_for(unit=tree.branch_a, month=datetime.date(2025, 4, 1)).number == 1


def test_the_migrations_own_step_installs_this_set():
    migration = importlib.import_module("members.ledger.migrations.0002_append_only_and_default_rules")
    migration.remove_default_rules(apps, None)
    assert not RuleSet.objects.exists()
    migration.install_default_rules(apps, None)
    test_a_fresh_installation_has_exactly_one_rule_set_the_default_with_one_version()
    test_the_default_rules_are_the_appendix_rule_by_rule()
    test_the_caps_are_10_3_and_9_and_nothing_else_is_capped()


def test_the_default_requirements_are_the_appendix_and_the_yearly_meetings_by_december():
    version = RuleSet.objects.get(committee__isnull=True).versions.get()
    rows = [(r.kind, r.frequency, r.per_group, r.due_month) for r in version.requirements.all()]
    assert rows == [
        ("committee_meeting", "monthly", False, None),
        ("group_meeting", "monthly", True, None),
        ("themed_day", "monthly", False, None),
        ("general_meeting", "quarterly", False, None),
        ("party_lecture", "quarterly", False, None),
        ("org_life_meeting", "yearly", False, 12),
        ("democratic_review", "yearly", False, 12),
    ]
    assert (version.themed_day, version.themed_day_elsewhere_counts, version.bottom_three_count) == (21, True, 3)
    assert (version.cadre_training_hours, version.group_weight_points, version.group_star5_from) == (56, 50, 90)
    assert version.entered_dimensions == ("committee_work", "production", "other")
    assert version.year_bands() == [(5, 360), (4, 288), (3, 216), (2, 144)]
