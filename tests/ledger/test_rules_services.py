"""Creating rule-set versions: numbering, copying, validation, history and customisation."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from branches.services import month_close, month_reopen
from members.ledger.models import LedgerEntry, Rule, RuleSet
from members.ledger.rule_access import (
    can_create_rule_version,
    can_customise_rules,
    customisable_committees,
    visible_rule_sets,
)
from members.ledger.rule_services import COPIED_FIELDS, rule_set_version_create
from members.ledger.services import ledger_entry_record, rule_set_for, rule_version_for

from .. import factories as f

pytestmark = pytest.mark.django_db

APRIL = datetime.date(2025, 4, 1)
MAY = datetime.date(2025, 5, 1)
JUNE = datetime.date(2025, 6, 1)


@pytest.fixture
def default():
    return RuleSet.objects.get(committee__isnull=True)


def new_version(rule_set=None, *, committee=None, month=MAY, hours="40", note="", rules=(), user=None):
    return rule_set_version_create(
        rule_set=rule_set,
        committee=committee,
        effective_month=month,
        yearly_training_hours=Decimal(hours),
        note=note,
        rules=list(rules),
        user=user,
    )


def errors_of(excinfo) -> dict[str, list[str]]:
    return excinfo.value.message_dict


# --- numbering and copying ----------------------------------------------------------


def test_a_new_version_is_numbered_after_the_last_and_copies_every_rule(default, users):
    v1 = default.versions.get()
    v2 = new_version(default, note="2025 调整", user=users.admin)
    v3 = new_version(default, month=JUNE, hours="48")
    assert (v2.number, v2.effective_month, v2.note, v2.created_by) == (2, MAY, "2025 调整", users.admin)
    assert (v3.number, v3.yearly_training_hours) == (3, Decimal("48"))
    old = {r.code: r for r in v1.rules.all()}
    for version in (v2, v3):
        new = {r.code: r for r in version.rules.all()}
        assert set(new) == set(old)
        for code, rule in new.items():
            for field in (*COPIED_FIELDS, "name", "points_min", "points_max", "monthly_cap", "evidence_required"):
                assert getattr(rule, field) == getattr(old[code], field), (code, field)
    # The old version's rules are untouched rows of their own.
    assert Rule.objects.filter(version=v1).count() == len(old)


def test_edited_values_replace_the_copied_ones_and_the_rest_stay(default):
    version = new_version(
        default,
        rules=[
            {
                "code": "exemplary_award",
                "name": "攻坚克难表彰",
                "points_min": "2",
                "points_max": Decimal("8"),
                "monthly_cap": "16",
                "evidence_required": False,
            },
            {"code": "training_hour", "monthly_cap": None},
            {"code": "org_absent", "points_min": "-3", "points_max": "-3"},
        ],
    )
    rules = {r.code: r for r in version.rules.all()}
    award = rules["exemplary_award"]
    assert (award.name, award.points_min, award.points_max, award.monthly_cap, award.evidence_required) == (
        "攻坚克难表彰",
        Decimal("2"),
        Decimal("8"),
        Decimal("16"),
        False,
    )
    assert rules["training_hour"].monthly_cap is None and rules["training_hour"].per_class_hour
    assert rules["org_absent"].points_min == Decimal("-3")
    # What a rule applies to never changes.
    assert rules["org_absent"].attendance_statuses == ["absent"] and rules["org_absent"].category == "deduction"
    assert rules["study_task"].points_min == Decimal("3")


def test_a_version_follows_the_newest_even_when_that_is_not_yet_in_force(default):
    new_version(default, month=datetime.date(2099, 1, 1), rules=[{"code": "study_task", "name": "新名称"}])
    v3 = new_version(default, month=datetime.date(2099, 2, 1))
    assert v3.number == 3
    assert v3.rules.get(code="study_task").name == "新名称"


# --- validation -----------------------------------------------------------------------


@pytest.mark.parametrize("month", [datetime.date(2000, 1, 1), datetime.date(1999, 12, 1)])
def test_a_version_cannot_start_in_or_before_the_newest_versions_month(default, month):
    with pytest.raises(ValidationError) as excinfo:
        new_version(default, month=month)
    assert "effective_month" in errors_of(excinfo)
    assert default.versions.count() == 1


def test_versions_only_move_forward(default):
    new_version(default, month=JUNE)
    for month in (MAY, JUNE):
        with pytest.raises(ValidationError) as excinfo:
            new_version(default, month=month)
        assert "2025年6月" in errors_of(excinfo)["effective_month"][0]


def test_a_version_starts_on_the_first_of_a_month(default):
    with pytest.raises(ValidationError) as excinfo:
        new_version(default, month=datetime.date(2025, 5, 2))
    assert "effective_month" in errors_of(excinfo)


def test_a_version_cannot_take_effect_in_a_month_a_committee_has_closed(default, tree):
    month_close(committee=tree.plant, month=MAY)
    for month in (APRIL, MAY):
        with pytest.raises(ValidationError) as excinfo:
            new_version(default, month=month)
        message = errors_of(excinfo)["effective_month"][0]
        assert "2025年5月" in message and tree.plant.name in message
    # The month after the last closed one is fine.
    assert new_version(default, month=JUNE).number == 2


def test_a_reopened_month_no_longer_blocks_a_version(default, tree):
    month_close(committee=tree.plant, month=MAY)
    month_reopen(committee=tree.plant, month=MAY, reason="更正")
    assert new_version(default, month=MAY).effective_month == MAY


def test_a_committees_closed_month_blocks_only_the_rules_it_uses(default, tree):
    own = new_version(committee=tree.plant, month=APRIL).rule_set
    month_close(committee=tree.plant, month=MAY)
    # PLANT follows its own rules now, so the default set may change in May...
    assert new_version(default, month=MAY).number == 2
    # ...but PLANT's own rules may not.
    with pytest.raises(ValidationError) as excinfo:
        new_version(own, month=MAY)
    assert "effective_month" in errors_of(excinfo)
    # OTHER's closed month does not concern PLANT's rules.
    month_close(committee=tree.other, month=JUNE)
    assert new_version(own, month=JUNE).number == 2


def test_a_closed_month_before_a_committees_own_rules_start_still_blocks_the_default(default, tree):
    # PLANT's own rules start in July; in May it still followed the inherited default.
    new_version(committee=tree.plant, month=datetime.date(2025, 7, 1))
    month_close(committee=tree.plant, month=MAY)
    with pytest.raises(ValidationError) as excinfo:
        new_version(default, month=MAY)
    assert tree.plant.name in errors_of(excinfo)["effective_month"][0]


def test_a_closed_month_of_a_committee_below_blocks_the_rules_it_inherits(tree):
    plant = new_version(committee=tree.plant, month=APRIL).rule_set
    own = f.committee(name="有自有规则的二级党委", code="SUB1", parent=tree.plant)
    new_version(committee=own, month=MAY)
    inheriting = f.committee(name="沿用上级规则的二级党委", code="SUB2", parent=tree.plant)
    month_close(committee=own, month=JUNE)
    # A committee below with its own rules in force does not follow PLANT's.
    assert new_version(plant, month=JUNE).number == 2
    month_close(committee=inheriting, month=datetime.date(2025, 7, 1))
    with pytest.raises(ValidationError) as excinfo:
        new_version(plant, month=datetime.date(2025, 7, 1))
    assert inheriting.name in errors_of(excinfo)["effective_month"][0]


def test_customising_is_refused_from_a_month_the_committee_has_closed(tree):
    month_close(committee=tree.plant, month=MAY)
    with pytest.raises(ValidationError) as excinfo:
        new_version(committee=tree.plant, month=MAY)
    assert "effective_month" in errors_of(excinfo)
    assert not RuleSet.objects.filter(committee=tree.plant).exists()


def test_points_from_cannot_exceed_points_up_to(default):
    with pytest.raises(ValidationError) as excinfo:
        new_version(default, rules=[{"code": "exemplary_award", "points_min": "8", "points_max": "3"}])
    assert list(errors_of(excinfo)) == ["rules-exemplary_award-points_max"]


def test_an_attendance_rule_has_fixed_points(default):
    with pytest.raises(ValidationError) as excinfo:
        new_version(default, rules=[{"code": "org_present", "points_min": "1", "points_max": "3"}])
    assert list(errors_of(excinfo)) == ["rules-org_present-points_max"]
    # Changing the fixed number is fine.
    version = new_version(default, rules=[{"code": "org_present", "points_min": "3", "points_max": "3"}])
    assert version.rules.get(code="org_present").points_min == Decimal("3")


def test_a_deduction_cannot_award_and_an_award_cannot_deduct(default):
    with pytest.raises(ValidationError) as excinfo:
        new_version(
            default,
            rules=[
                {"code": "deduction", "points_min": "-5", "points_max": "1"},
                {"code": "org_absent", "points_min": "2", "points_max": "2"},
                {"code": "exemplary_award", "points_min": "-1", "points_max": "10"},
            ],
        )
    assert set(errors_of(excinfo)) == {
        "rules-deduction-points_max",
        "rules-org_absent-points_max",
        "rules-exemplary_award-points_min",
    }
    assert default.versions.count() == 1


def test_caps_are_above_zero_or_empty_and_names_are_required(default):
    with pytest.raises(ValidationError) as excinfo:
        new_version(default, rules=[{"code": "study_task", "monthly_cap": "0", "name": "  "}])
    assert set(errors_of(excinfo)) == {"rules-study_task-monthly_cap", "rules-study_task-name"}


def test_values_must_fit_the_database(default):
    with pytest.raises(ValidationError) as excinfo:
        new_version(default, hours="-1", rules=[{"code": "study_task", "points_min": "3.125", "points_max": "4"}])
    assert set(errors_of(excinfo)) == {"yearly_training_hours", "rules-study_task-points_min"}


def test_an_unknown_rule_code_is_refused(default):
    with pytest.raises(ValidationError) as excinfo:
        new_version(default, rules=[{"code": "nope", "points_min": "1"}])
    assert "rules" in errors_of(excinfo)


def test_passing_both_a_rule_set_and_a_committee_is_a_programming_error(default, tree):
    with pytest.raises(ValueError):
        new_version(default, committee=tree.plant)
    with pytest.raises(ValueError):
        new_version(None)


# --- history: a new version never changes months graded under an older one -----------


def test_a_version_effective_in_may_leaves_april_under_version_1(default, tree, member_a, users):
    v1 = rule_version_for(unit=tree.branch_a, month=APRIL)
    april_rule = v1.rules.get(code="study_task")
    april = ledger_entry_record(
        member=member_a, rule=april_rule, month=APRIL, points=Decimal("3"), reason="四月学习", user=users.secretary
    )
    v2 = new_version(default, rules=[{"code": "study_task", "points_min": "4", "points_max": "4", "monthly_cap": "4"}])

    # April keeps its version, its entries and their rule, untouched.
    assert rule_version_for(unit=tree.branch_a, month=APRIL) == v1
    april.refresh_from_db()
    assert (april.rule_version, april.rule, april.points) == (v1, april_rule, Decimal("3.00"))
    assert LedgerEntry.objects.filter(rule_version=v1).count() == 1
    # April is still recorded under version 1's rules, and version 2's are refused there.
    v2_rule = v2.rules.get(code="study_task")
    with pytest.raises(ValidationError):
        ledger_entry_record(member=member_a, rule=v2_rule, month=APRIL, points=Decimal("4"), reason="x", user=None)

    # May and later follow version 2.
    assert rule_version_for(unit=tree.branch_a, month=MAY) == v2
    assert rule_version_for(unit=tree.branch_x, month=datetime.date(2026, 1, 1)) == v2
    may = ledger_entry_record(
        member=member_a, rule=v2_rule, month=MAY, points=Decimal("4"), reason="五月学习", user=users.secretary
    )
    assert (may.rule_version, may.points) == (v2, Decimal("4.00"))
    with pytest.raises(ValidationError):
        ledger_entry_record(member=member_a, rule=april_rule, month=MAY, points=Decimal("3"), reason="x", user=None)


# --- customisation ----------------------------------------------------------------------


def test_customising_gives_the_committee_its_own_rules_for_its_branches_only(default, tree, users):
    version = new_version(
        committee=tree.plant,
        month=MAY,
        hours="48",
        rules=[{"code": "volunteer", "points_min": "4", "points_max": "4", "monthly_cap": "12"}],
        user=users.committee,
    )
    own = version.rule_set
    assert (own.committee, version.number, version.effective_month) == (tree.plant, 1, MAY)
    assert tree.plant.name in own.name
    assert version.yearly_training_hours == Decimal("48")
    for unit in (tree.plant, tree.branch_a, tree.branch_b, tree.group_a1):
        assert rule_set_for(unit=unit) == own
    for unit in (tree.root, tree.other, tree.branch_x):
        assert rule_set_for(unit=unit) == default
    assert rule_version_for(unit=tree.branch_a, month=JUNE) == version
    assert rule_version_for(unit=tree.branch_x, month=JUNE) == default.versions.get()
    # Version 1 is a copy of the default rules with the committee's change.
    copied = {r.code: (r.category, r.source, r.points_min, r.monthly_cap) for r in version.rules.all()}
    inherited = {
        r.code: (r.category, r.source, r.points_min, r.monthly_cap) for r in default.versions.get().rules.all()
    }
    assert copied.pop("volunteer") == ("exemplary", "attendance", Decimal("4"), Decimal("12"))
    inherited.pop("volunteer")
    assert copied == inherited
    # The default rules did not change.
    assert default.versions.count() == 1


def test_a_committee_under_a_customised_one_inherits_its_rules_and_copies_them(tree):
    plant_rules = new_version(committee=tree.plant, rules=[{"code": "study_task", "name": "炼钢厂学习任务"}])
    sub = f.committee(name="二级党委", code="SUB", parent=tree.plant)
    sub_branch = f.branch(sub, code="SUBB")
    assert rule_set_for(unit=sub_branch) == plant_rules.rule_set
    sub_rules = new_version(committee=sub, month=JUNE)
    assert sub_rules.rules.get(code="study_task").name == "炼钢厂学习任务"
    assert rule_set_for(unit=sub_branch) == sub_rules.rule_set
    assert rule_set_for(unit=tree.branch_a) == plant_rules.rule_set


def test_a_committee_is_customised_once_and_only_committees_can_be(tree):
    new_version(committee=tree.plant)
    with pytest.raises(ValidationError):
        new_version(committee=tree.plant, month=JUNE)
    with pytest.raises(ValidationError):
        new_version(committee=tree.branch_a)
    assert RuleSet.objects.count() == 2


def test_customising_from_may_leaves_april_under_the_inherited_rules(default, tree):
    new_version(committee=tree.plant, month=MAY)
    assert rule_version_for(unit=tree.branch_a, month=APRIL) == default.versions.get()


# --- who reads and who writes -----------------------------------------------------------


def test_each_role_reads_the_rule_sets_that_apply_to_it(default, tree, users):
    root = new_version(committee=tree.root, month=APRIL).rule_set
    plant = new_version(committee=tree.plant).rule_set
    other = new_version(committee=tree.other).rule_set
    sub = new_version(committee=f.committee(name="二级党委", code="SUB", parent=tree.plant)).rule_set

    def visible(user):
        return set(visible_rule_sets(user))

    assert visible(users.admin) == {default, root, plant, other, sub}
    assert visible(users.committee) == {default, root, plant, sub}
    assert visible(users.other_committee) == {default, root, other}
    assert visible(users.secretary) == {default, root, plant}
    assert visible(users.other_secretary) == {default, root, other}
    assert visible(users.nobody) == set()


def test_versions_are_created_by_admins_and_by_the_committees_own_staff(default, tree, users):
    plant = new_version(committee=tree.plant).rule_set
    sub = new_version(committee=f.committee(name="二级党委", code="SUB", parent=tree.plant)).rule_set
    assert can_create_rule_version(users.admin, default) and can_create_rule_version(users.admin, plant)
    assert can_create_rule_version(users.committee, plant)
    # Not the default, not a committee below their own, not another committee's.
    assert not can_create_rule_version(users.committee, default)
    assert not can_create_rule_version(users.committee, sub)
    assert not can_create_rule_version(users.other_committee, plant)
    assert not can_create_rule_version(users.secretary, plant)
    assert not can_create_rule_version(users.secretary, default)


def test_committee_staff_customise_their_own_committee_and_admins_any(tree, users):
    assert can_customise_rules(users.committee, tree.plant)
    assert not can_customise_rules(users.committee, tree.root)
    assert not can_customise_rules(users.committee, tree.other)
    assert not can_customise_rules(users.secretary, tree.plant)
    assert can_customise_rules(users.admin, tree.other)
    assert not can_customise_rules(users.admin, tree.branch_a)
    assert list(customisable_committees(users.committee)) == [tree.plant]
    assert set(customisable_committees(users.admin)) == {tree.root, tree.plant, tree.other}
    assert not customisable_committees(users.secretary).exists()
    new_version(committee=tree.plant)
    assert not customisable_committees(users.committee).exists()


def test_a_new_version_carries_over_the_requirements_the_items_and_the_scheme(default):
    from members.ledger.models import ScoreItem

    v1 = default.versions.get()
    ScoreItem.objects.create(version=v1, dimension="committee_work", code="unity", name="班子团结", max_score=60)
    ScoreItem.objects.create(version=v1, dimension="committee_work", code="rules", name="制度执行", max_score=40)
    type(v1).objects.filter(pk=v1.pk).update(themed_day=15, group_star5_from=95)
    v2 = new_version(default)
    assert [(r.kind, r.frequency, r.per_group, r.due_month) for r in v2.requirements.all()] == [
        (r.kind, r.frequency, r.per_group, r.due_month) for r in v1.requirements.all()
    ]
    assert [(i.code, i.name, i.max_score) for i in v2.score_items.all()] == [
        ("unity", "班子团结", 60),
        ("rules", "制度执行", 40),
    ]
    assert (v2.themed_day, v2.group_star5_from) == (15, 95)
