"""A new rule-set version holds the committee's whole scheme (细则): grading parameters,
meeting requirements, scored sub-items, and rules added, changed and retired. Every
problem is raised at once, keyed by field, and nothing is written then."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from members.ledger.defaults import DEFAULT_RULES
from members.ledger.models import LedgerEntry, MeetingRequirement, Rule, RuleSet, RuleSetVersion, ScoreItem
from members.ledger.rule_services import rule_set_version_create
from members.ledger.services import ledger_entry_record

pytestmark = pytest.mark.django_db

MAY = datetime.date(2025, 5, 1)
JUNE = datetime.date(2025, 6, 1)
JULY = datetime.date(2025, 7, 1)
D = Decimal


@pytest.fixture
def default():
    return RuleSet.objects.get(committee__isnull=True)


def create(rule_set=None, *, committee=None, month=MAY, **kwargs):
    return rule_set_version_create(
        rule_set=rule_set, committee=committee, effective_month=month, note=kwargs.pop("note", ""), user=None, **kwargs
    )


def refused(rule_set, **kwargs) -> dict[str, list[str]]:
    """The errors of a version that must be refused; checks that nothing was written."""
    counts = (RuleSetVersion.objects.count(), Rule.objects.count(), MeetingRequirement.objects.count())
    with pytest.raises(ValidationError) as excinfo:
        create(rule_set, **kwargs)
    assert (RuleSetVersion.objects.count(), Rule.objects.count(), MeetingRequirement.objects.count()) == counts
    return excinfo.value.message_dict


def new_rule(**values):
    row = {
        "category": "exemplary",
        "name": "技术攻关成果",
        "source": "manual",
        "points_min": "2",
        "points_max": "6",
        "monthly_cap": "12",
        "evidence_required": True,
    }
    row.update(values)
    return row


ITEMS = [
    {"dimension": "committee_work", "name": "班子团结", "max_score": "60"},
    {"dimension": "committee_work", "name": "制度执行", "max_score": "40"},
]


# --- parameters ------------------------------------------------------------------------------


def test_every_grading_parameter_is_taken_and_the_rest_are_copied(default):
    parameters = {
        "weight_basics": "25",
        "weight_committee_work": "20",
        "weight_production": "25",
        "weight_membership": "20",
        "weight_other": "10",
        "star5_from": "32",
        "star4_from": "25",
        "star3_from": "19",
        "star2_from": "13",
        "grade_advanced_from": "92",
        "grade_standard_from": "70",
        "bottom_three_limit": 2,
        "bottom_three_count": 2,
        "basics_entered": True,
        "membership_entered": False,
        "year_star5_from": "400",
        "year_star4_from": "300",
        "year_star3_from": "200",
        "year_star2_from": "100",
        "themed_day": 15,
        "themed_day_elsewhere_counts": False,
        "cadre_training_hours": "60",
        "group_weight_points": "40",
        "group_weight_meetings": "60",
        "group_star5_from": "95",
        "group_star4_from": "85",
        "group_star3_from": "75",
        "group_star2_from": "65",
        "commitment_mid_check": 7,
        "commitment_final_check": 12,
        "review_excellent_share": "25",
        "review_unqualified_stars": 2,
        "suggestions_by_secretary": True,
    }
    assert set(parameters) == set(RuleSetVersion.GRADING_FIELDS)
    version = create(default, parameters=parameters, yearly_training_hours="48")
    version.refresh_from_db()
    for name, value in parameters.items():
        expected = value if isinstance(value, bool | int) else D(value)
        assert getattr(version, name) == expected, name
    assert version.yearly_training_hours == D("48")
    assert version.entered_dimensions == ("basics", "committee_work", "production", "other")
    assert version.year_bands() == [(5, D(400)), (4, D(300)), (3, D(200)), (2, D(100))]

    # A version given nothing copies them all from the one it follows.
    following = create(default, month=JUNE)
    for name in (*RuleSetVersion.GRADING_FIELDS, "yearly_training_hours"):
        assert getattr(following, name) == getattr(version, name), name


def test_the_weights_must_add_up_to_exactly_100(default):
    errors = refused(default, parameters={"weight_basics": "30.01"})
    assert list(errors) == ["weights"] and "100.01" in errors["weights"][0]
    assert "weights" in refused(default, parameters={"weight_basics": "29", "weight_other": "10"})
    assert create(default, parameters={"weight_basics": "29", "weight_other": "11"}).weight_other == D("11")


def test_a_weight_is_a_percentage(default):
    errors = refused(default, parameters={"weight_basics": "-10", "weight_production": "65"})
    assert set(errors) == {"weight_basics"}
    assert "weight_other" in refused(default, parameters={"weight_other": "x"})


def test_the_month_star_bands_descend_strictly(default):
    errors = refused(default, parameters={"star4_from": "30", "star2_from": "20"})
    assert set(errors) == {"star4_from", "star2_from"}


def test_the_year_bands_are_all_empty_or_all_set_and_descending(default):
    errors = refused(default, parameters={"year_star5_from": "400", "year_star3_from": "200"})
    assert set(errors) == {"year_star4_from", "year_star2_from"}
    errors = refused(
        default,
        parameters={
            "year_star5_from": "400",
            "year_star4_from": "300",
            "year_star3_from": "300",
            "year_star2_from": "1",
        },
    )
    assert set(errors) == {"year_star3_from"}
    # Emptying them again (twelve times the month's) is fine.
    v2 = create(
        default,
        parameters={
            "year_star5_from": "400",
            "year_star4_from": "300",
            "year_star3_from": "200",
            "year_star2_from": "1",
        },
    )
    v3 = create(
        default,
        month=JUNE,
        parameters=dict.fromkeys(["year_star5_from", "year_star4_from", "year_star3_from", "year_star2_from"]),
    )
    assert v2.year_star2_from == 1 and v3.year_star2_from is None and v3.year_bands()[0] == (5, D(360))


def test_grade_limits_lie_within_0_and_100_with_advanced_above_standard(default):
    assert set(refused(default, parameters={"grade_advanced_from": "101"})) == {"grade_advanced_from"}
    assert set(refused(default, parameters={"grade_standard_from": "-1"})) == {"grade_standard_from"}
    errors = refused(default, parameters={"grade_advanced_from": "80", "grade_standard_from": "80"})
    assert set(errors) == {"grade_standard_from"}


def test_the_bottom_three_flags_at_least_one_and_the_limit_is_not_negative(default):
    assert set(refused(default, parameters={"bottom_three_count": 0})) == {"bottom_three_count"}
    assert set(refused(default, parameters={"bottom_three_limit": -1})) == {"bottom_three_limit"}
    assert set(refused(default, parameters={"bottom_three_count": "2.5"})) == {"bottom_three_count"}
    version = create(default, parameters={"bottom_three_count": 1, "bottom_three_limit": 0})
    assert (version.bottom_three_count, version.bottom_three_limit) == (1, 0)


@pytest.mark.parametrize("day", [0, 32, -1, ""])
def test_the_themed_day_is_a_day_of_the_month(default, day):
    assert set(refused(default, parameters={"themed_day": day})) == {"themed_day"}


def test_training_hours_are_not_negative(default):
    errors = refused(default, yearly_training_hours="-1", parameters={"cadre_training_hours": "-0.5"})
    assert set(errors) == {"yearly_training_hours", "cadre_training_hours"}


def test_group_weights_add_up_to_100_and_group_bands_descend_within_0_to_100(default):
    assert set(refused(default, parameters={"group_weight_points": "60"})) == {"group_weights"}
    errors = refused(default, parameters={"group_star5_from": "101", "group_star3_from": "80"})
    assert set(errors) == {"group_star5_from", "group_star3_from"}
    assert set(refused(default, parameters={"group_star2_from": "-5"})) == {"group_star2_from"}


def test_every_problem_is_raised_at_once(default):
    errors = refused(
        default,
        month=datetime.date(2000, 1, 1),
        parameters={"weight_basics": "50", "themed_day": 40, "star2_from": "99"},
        rules=[{"code": "deduction", "points_max": "3"}, new_rule(category="")],
        requirements=[{"kind": "themed_day", "frequency": "yearly"}],
        score_items=[{"dimension": "production", "name": "产量", "max_score": "90"}],
    )
    assert set(errors) == {
        "effective_month",
        "weights",
        "themed_day",
        "star2_from",
        "rules-deduction-points_max",
        "rules-new0-category",
        "requirements-0-due_month",
        "items-production",
    }


def test_an_unknown_parameter_is_a_programming_error(default):
    with pytest.raises(ValueError):
        create(default, parameters={"weight_everything": "100"})


# --- meeting requirements ---------------------------------------------------------------------


def test_the_requirements_given_replace_the_base_versions(default):
    version = create(
        default,
        requirements=[
            {"kind": "committee_meeting", "frequency": "monthly"},
            {"kind": "group_meeting", "frequency": "monthly", "per_group": True},
            {"kind": "party_lecture", "frequency": "monthly"},
            {"kind": "org_life_meeting", "frequency": "yearly", "due_month": "6"},
        ],
    )
    rows = [(r.kind, r.frequency, r.per_group, r.due_month, r.sort_order) for r in version.requirements.all()]
    assert rows == [
        ("committee_meeting", "monthly", False, None, 0),
        ("group_meeting", "monthly", True, None, 1),
        ("party_lecture", "monthly", False, None, 2),
        ("org_life_meeting", "yearly", False, 6, 3),
    ]
    # The version before keeps its own seven.
    assert default.versions.get(number=1).requirements.count() == 7
    # None copies them; an empty list requires nothing.
    assert create(default, month=JUNE).requirements.count() == 4
    assert not create(default, month=JULY, requirements=[]).requirements.exists()


def test_one_requirement_per_activity_kind(default):
    errors = refused(
        default,
        requirements=[
            {"kind": "committee_meeting", "frequency": "monthly"},
            {"kind": "committee_meeting", "frequency": "quarterly"},
        ],
    )
    assert list(errors) == ["requirements-1-kind"]


def test_a_yearly_requirement_needs_a_due_month_and_only_it_has_one(default):
    errors = refused(
        default,
        requirements=[
            {"kind": "org_life_meeting", "frequency": "yearly"},
            {"kind": "democratic_review", "frequency": "yearly", "due_month": 13},
            {"kind": "party_lecture", "frequency": "quarterly", "due_month": 3},
            {"kind": "themed_day", "frequency": "monthly", "due_month": "x"},
        ],
    )
    assert set(errors) == {
        "requirements-0-due_month",
        "requirements-1-due_month",
        "requirements-2-due_month",
        "requirements-3-due_month",
    }


def test_only_party_group_meetings_are_held_per_group(default):
    errors = refused(default, requirements=[{"kind": "themed_day", "frequency": "monthly", "per_group": True}])
    assert list(errors) == ["requirements-0-per_group"]


def test_a_requirement_names_a_known_kind_and_frequency_and_errors_follow_its_key(default):
    errors = refused(default, requirements=[{"key": "7", "kind": "picnic", "frequency": "daily"}])
    assert set(errors) == {"requirements-7-kind", "requirements-7-frequency"}


# --- scored sub-items -------------------------------------------------------------------------


def test_scored_items_get_codes_and_keep_them_in_the_next_version(default):
    v2 = create(default, score_items=ITEMS)
    items = list(v2.score_items.order_by("sort_order"))
    assert [(i.dimension, i.code, i.name, i.max_score) for i in items] == [
        ("committee_work", "committee_work_1", "班子团结", D(60)),
        ("committee_work", "committee_work_2", "制度执行", D(40)),
    ]
    # Kept by code (renamed, re-weighted), one dropped, one added.
    v3 = create(
        default,
        month=JUNE,
        score_items=[
            {"code": "committee_work_1", "name": "班子团结协作", "max_score": "70"},
            {"dimension": "committee_work", "name": "作风建设", "max_score": "30"},
        ],
    )
    assert [(i.code, i.name, i.max_score) for i in v3.score_items.order_by("sort_order")] == [
        ("committee_work_1", "班子团结协作", D(70)),
        ("committee_work_3", "作风建设", D(30)),
    ]
    # committee_work_2 existed once, so it is never given again.
    v4 = create(
        default,
        month=JULY,
        score_items=[
            {"code": "committee_work_1", "name": "班子团结协作", "max_score": "50"},
            {"dimension": "committee_work", "name": "学习制度", "max_score": "50"},
        ],
    )
    assert {i.code for i in v4.score_items.all()} == {"committee_work_1", "committee_work_4"}


def test_a_dimensions_items_add_up_to_exactly_100(default):
    errors = refused(
        default,
        score_items=[
            {"dimension": "committee_work", "name": "甲", "max_score": "60"},
            {"dimension": "committee_work", "name": "乙", "max_score": "30"},
            {"dimension": "other", "name": "丙", "max_score": "100"},
        ],
    )
    assert list(errors) == ["items-committee_work"] and "90" in errors["items-committee_work"][0]


def test_items_only_for_dimensions_the_committee_enters(default):
    items = [{"dimension": "basics", "name": "台账规范", "max_score": "100"}]
    assert list(refused(default, score_items=items)) == ["items-basics"]
    # Once the committee enters basic work, it may have items.
    version = create(default, parameters={"basics_entered": True}, score_items=items)
    assert version.score_items.get().code == "basics_1"
    # Turning it back to computed while keeping the items is refused.
    errors = refused(default, month=JUNE, parameters={"basics_entered": False})
    assert list(errors) == ["items-basics"]


def test_an_item_has_a_name_and_a_maximum_above_0_up_to_100(default):
    errors = refused(
        default,
        score_items=[
            {"dimension": "production", "name": " ", "max_score": "50"},
            {"dimension": "production", "name": "安全", "max_score": "0"},
            {"dimension": "production", "name": "质量", "max_score": "101"},
            {"dimension": "nowhere", "name": "产量", "max_score": "50"},
        ],
    )
    assert {"items-0-name", "items-1-max_score", "items-2-max_score", "items-3-dimension"} <= set(errors)


def test_an_item_code_must_be_one_of_the_base_versions_and_keeps_its_dimension(default):
    create(default, score_items=ITEMS)
    assert "score_items" in refused(
        default, month=JUNE, score_items=[{"code": "made_up", "name": "x", "max_score": "100"}]
    )
    errors = refused(
        default,
        month=JUNE,
        score_items=[
            {"code": "committee_work_1", "dimension": "production", "name": "x", "max_score": "60"},
            {"code": "committee_work_2", "name": "y", "max_score": "40"},
        ],
    )
    assert list(errors) == ["items-0-dimension"]


# --- rules: add, change and retire in one version ---------------------------------------------


def test_add_change_and_retire_in_one_version(default):
    version = create(
        default,
        rules=[
            {"code": "study_task", "name": "完成月度学习任务", "points_min": "4", "points_max": "4"},
            {"code": "suggestion_implemented", "retire": True, "name": ""},  # a retired rule's values are not checked
            new_rule(),
            new_rule(
                category="org_life",
                name="参加党日活动（延伸）",
                source="attendance",
                activity_kinds=["themed_day", "volunteer"],
                attendance_statuses=["present"],
                points_min="1",
                points_max="1",
                monthly_cap=None,
                evidence_required=False,
            ),
        ],
    )
    rules = {r.code: r for r in version.rules.all()}
    assert "suggestion_implemented" not in rules
    assert rules["study_task"].name == "完成月度学习任务" and rules["study_task"].points_min == D(4)
    added = rules["exemplary_1"]
    assert (added.category, added.name, added.source, added.points_min, added.points_max) == (
        "exemplary",
        "技术攻关成果",
        "manual",
        D(2),
        D(6),
    )
    assert added.monthly_cap == D(12) and added.evidence_required
    attendance = rules["org_life_1"]
    assert (attendance.source, attendance.activity_kinds, attendance.attendance_statuses) == (
        "attendance",
        ["themed_day", "volunteer"],
        ["present"],
    )
    # New rules come after the copied ones, in the order given.
    copied = [r.sort_order for code, r in rules.items() if code not in ("exemplary_1", "org_life_1")]
    assert attendance.sort_order == added.sort_order + 1 and added.sort_order > max(copied)
    assert len(rules) == len(DEFAULT_RULES) - 1 + 2


def test_a_retired_rules_code_is_never_given_again_so_its_entries_stay_unambiguous(default, tree, member_a, users):
    v2 = create(default, rules=[new_rule(evidence_required=False)])
    added = v2.rules.get(code="exemplary_1")
    entry = ledger_entry_record(
        member=member_a, rule=added, month=MAY, points=D(3), reason="攻关", user=users.secretary
    )
    v3 = create(default, month=JUNE, rules=[{"code": "exemplary_1", "retire": True}])
    assert not v3.rules.filter(code="exemplary_1").exists()
    v4 = create(default, month=JULY, rules=[new_rule(name="另一项攻关")])
    assert v4.rules.get(name="另一项攻关").code == "exemplary_2"
    assert Rule.objects.filter(version__rule_set=default, code="exemplary_1").count() == 1  # v2's only
    entry.refresh_from_db()
    assert entry.rule == added and LedgerEntry.objects.filter(rule__code="exemplary_1").count() == 1


def test_codes_follow_the_category_and_skip_existing_ones(default):
    version = create(
        default,
        rules=[
            new_rule(category="deduction", name="迟报", points_min="-2", points_max="-1", monthly_cap=None),
            new_rule(category="deduction", name="漏报", points_min="-3", points_max="-3", monthly_cap=None),
            new_rule(),
        ],
    )
    assert set(version.rules.values_list("code", flat=True)) >= {"deduction_1", "deduction_2", "exemplary_1"}
    assert version.rules.filter(code="deduction").exists()  # the default's own code stays


def test_a_customisation_adds_codes_the_inherited_rules_never_used(default, tree):
    create(default, rules=[new_rule()])  # the default gets exemplary_1
    own = create(committee=tree.plant, month=JUNE, rules=[new_rule(name="炼钢厂攻关")])
    assert own.rules.get(name="炼钢厂攻关").code == "exemplary_2"
    assert own.rules.get(code="exemplary_1").name == "技术攻关成果"  # copied from the default


def test_a_new_rule_needs_a_category_a_source_and_a_name(default):
    errors = refused(default, rules=[new_rule(category="", source="telepathy", name="")])
    assert set(errors) == {"rules-new0-category", "rules-new0-source", "rules-new0-name"}


def test_a_new_attendance_rule_names_activities_and_statuses_and_has_fixed_points(default):
    errors = refused(
        default,
        rules=[new_rule(source="attendance", activity_kinds=[], attendance_statuses=["asleep"], monthly_cap=None)],
    )
    assert set(errors) == {"rules-new0-activity_kinds", "rules-new0-attendance_statuses", "rules-new0-points_max"}


def test_only_an_attendance_rule_names_activities_or_counts_per_class_hour(default):
    errors = refused(
        default, rules=[new_rule(activity_kinds=["training"], attendance_statuses=["present"], per_class_hour=True)]
    )
    assert set(errors) == {
        "rules-new0-activity_kinds",
        "rules-new0-attendance_statuses",
        "rules-new0-per_class_hour",
    }


def test_a_new_rules_points_suit_its_category_and_its_cap_is_positive(default):
    errors = refused(
        default,
        rules=[
            new_rule(key="a", points_min="5", points_max="2"),
            new_rule(key="b", category="deduction", points_min="-1", points_max="1"),
            new_rule(key="c", points_min="-1", points_max="1"),
            new_rule(key="d", monthly_cap="0"),
            new_rule(key="e", points_min="", points_max="abc"),
            new_rule(key="f", points_min="1.234", points_max="2"),
        ],
    )
    assert set(errors) == {
        "rules-a-points_max",
        "rules-b-points_max",
        "rules-c-points_min",
        "rules-d-monthly_cap",
        "rules-e-points_min",
        "rules-e-points_max",
        "rules-f-points_min",
    }


def test_retiring_an_unknown_rule_is_refused(default):
    assert "rules" in refused(default, rules=[{"code": "nope", "retire": True}])


# --- copying and locking ----------------------------------------------------------------------


def test_the_requirements_and_items_of_a_customisation_are_copied_from_what_it_inherits(default, tree):
    create(default, score_items=ITEMS, requirements=[{"kind": "themed_day", "frequency": "monthly"}])
    own = create(committee=tree.plant, month=JUNE)
    assert [(r.kind, r.frequency) for r in own.requirements.all()] == [("themed_day", "monthly")]
    assert {(i.code, i.max_score) for i in own.score_items.all()} == {
        ("committee_work_1", D(60)),
        ("committee_work_2", D(40)),
    }
    # The copies are rows of the new version, not the inherited ones.
    assert not ScoreItem.objects.filter(
        version=own, pk__in=ScoreItem.objects.filter(version__rule_set=default)
    ).exists()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"commitment_mid_check": 13}, "commitment_mid_check"),
        ({"commitment_mid_check": 12, "commitment_final_check": 12}, "commitment_mid_check"),
        ({"review_excellent_share": "101"}, "review_excellent_share"),
        ({"review_unqualified_stars": 0}, "review_unqualified_stars"),
        ({"review_unqualified_stars": 6}, "review_unqualified_stars"),
    ],
)
def test_the_members_year_parameters_are_checked(default, values, field):
    with pytest.raises(ValidationError) as error:
        rule_set_version_create(
            rule_set=default,
            committee=None,
            effective_month=datetime.date(2025, 5, 1),
            note="",
            user=None,
            parameters=values,
        )
    assert field in error.value.message_dict
