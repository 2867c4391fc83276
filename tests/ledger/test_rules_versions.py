"""Versions stay readable: each version's page shows everything it holds, a diff page
says what it changed from the one before, the board's link to the version that graded a
month lands on that version, and the new-version form edits the whole scheme."""

import datetime
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.grading.models import ScoreInput
from members.ledger.models import MeetingRequirement, Rule, RuleSet, ScoreItem
from members.ledger.rule_diff import version_changes
from members.ledger.rule_services import rule_set_version_create

from ..grading.test_boards import draft, publish

pytestmark = pytest.mark.django_db

TODAY = datetime.datetime(2025, 4, 15, 10, 0)
APRIL = datetime.date(2025, 4, 1)
MAY = datetime.date(2025, 5, 1)
JUNE = datetime.date(2025, 6, 1)
D = Decimal


@pytest.fixture(autouse=True)
def _april_2025(time_machine):
    time_machine.move_to(TODAY)


@pytest.fixture
def default():
    return RuleSet.objects.get(committee__isnull=True)


def create(rule_set=None, *, committee=None, month=MAY, **kwargs):
    return rule_set_version_create(
        rule_set=rule_set, committee=committee, effective_month=month, note=kwargs.pop("note", ""), user=None, **kwargs
    )


def detail(rule_set, **params) -> str:
    url = reverse("ledger:ruleset_detail", args=[rule_set.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def changes_url(rule_set, **params) -> str:
    url = reverse("ledger:ruleset_changes", args=[rule_set.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def new_version_url(rule_set) -> str:
    return reverse("ledger:ruleset_version_create", args=[rule_set.pk])


def customise_url(committee) -> str:
    return reverse("ledger:ruleset_customise", args=[committee.pk])


ITEMS = [
    {"dimension": "committee_work", "name": "班子团结", "max_score": "60"},
    {"dimension": "committee_work", "name": "制度执行", "max_score": "40"},
]


@pytest.fixture
def two_versions(default):
    """Version 2 of the default rules: items for 班子建设 and a changed scheme. Version 3
    from June: other weights, an item renamed, one dropped and one added, a requirement
    changed, one dropped and one added, a rule added, one changed, one retired."""
    create(default, score_items=ITEMS)
    v3 = create(
        default,
        month=JUNE,
        note="六月起修订",
        yearly_training_hours="48",
        parameters={
            "weight_basics": "25",
            "weight_production": "30",
            "themed_day": 15,
            "themed_day_elsewhere_counts": False,
        },
        rules=[
            {
                "code": "study_task",
                "name": "完成月度学习任务",
                "points_min": "4",
                "points_max": "4",
                "monthly_cap": "4",
            },
            {"code": "suggestion_implemented", "retire": True},
            {
                "category": "exemplary",
                "name": "技术攻关成果",
                "source": "project",
                "points_min": "2",
                "points_max": "8",
            },
        ],
        requirements=[
            {"kind": "committee_meeting", "frequency": "monthly"},
            {"kind": "group_meeting", "frequency": "monthly", "per_group": True},
            {"kind": "themed_day", "frequency": "monthly"},
            {"kind": "general_meeting", "frequency": "quarterly"},
            {"kind": "party_lecture", "frequency": "monthly"},
            {"kind": "org_life_meeting", "frequency": "yearly", "due_month": 6},
            {"kind": "training", "frequency": "quarterly"},
        ],
        score_items=[
            {"code": "committee_work_1", "name": "班子团结协作", "max_score": "70"},
            {"dimension": "committee_work", "name": "作风建设", "max_score": "30"},
        ],
    )
    return default.versions.get(number=2), v3


# --- the diff ---------------------------------------------------------------------------------


def test_the_diff_lists_what_was_added_changed_and_retired(two_versions):
    v2, v3 = two_versions
    changes = version_changes(version=v3, previous=v2)
    parameters = {c.label: (c.old, c.new) for c in changes.parameters}
    assert parameters == {
        "年度学时要求": ("40", "48"),
        "权重：基础工作": ("30", "25"),
        "权重：生产经营": ("25", "30"),
        "每月主题党日日期": ("21", "15"),
        "在其他日期开展的主题党日也计入": ("是", "否"),
    }
    assert [r.name for r in changes.rules.added] == ["技术攻关成果"]
    assert [r.code for r in changes.rules.removed] == ["suggestion_implemented"]
    ((rule, old, fields),) = changes.rules.changed
    assert rule.code == old.code == "study_task"
    assert {c.label: (c.old, c.new) for c in fields} == {
        "名称": ("完成当月政治理论学习任务", "完成月度学习任务"),
        "最低分值": ("3", "4"),
        "最高分值": ("3", "4"),
        "月度上限": ("3", "4"),
    }
    assert [r.kind for r in changes.requirements.added] == ["training"]
    assert [r.kind for r in changes.requirements.removed] == ["democratic_review"]
    changed = {
        new.kind: {c.label: (c.old, c.new) for c in fields} for new, _old, fields in changes.requirements.changed
    }
    assert changed == {
        "party_lecture": {"频次": ("每季度", "每月")},
        "org_life_meeting": {"截止月份": ("十二月", "六月")},
    }
    assert [i.name for i in changes.items.added] == ["作风建设"]
    assert [i.name for i in changes.items.removed] == ["制度执行"]
    ((item, _old, fields),) = changes.items.changed
    assert item.code == "committee_work_1"
    assert {c.label: (c.old, c.new) for c in fields} == {"名称": ("班子团结", "班子团结协作"), "最高分": ("60", "70")}
    assert not changes.is_empty


def test_a_version_changing_nothing_has_an_empty_diff(default):
    v2 = create(default)
    changes = version_changes(version=v2, previous=default.versions.get(number=1))
    assert changes.is_empty


def test_the_changes_page_shows_the_diff_and_links_both_versions(two_versions, default, users, login):
    response = login(users.secretary).get(changes_url(default, version=3))
    assert response.status_code == 200
    assert response.context["previous"].number == 2
    html = response.content.decode()
    for text in ("技术攻关成果", "完成月度学习任务", "合理化建议实施", "作风建设", "制度执行", "六月"):
        assert text in html, text
    assert 'id="rules-retired"' in html and 'id="items-removed"' in html and 'id="requirements-added"' in html
    assert 'data-code="suggestion_implemented"' in html.split('id="rules-retired"')[1]
    assert f'href="{detail(default, version=3)}"' in html and f'href="{detail(default, version=2)}"' in html


def test_the_first_versions_changes_page_says_it_is_the_first(default, users, login):
    response = login(users.secretary).get(changes_url(default, version=1))
    assert response.status_code == 200
    assert response.context["previous"] is None
    assert "第一个版本" in response.content.decode()


def test_the_changes_page_404s_for_unknown_versions_and_outsiders(tree, users, login):
    own = create(committee=tree.plant).rule_set
    assert login(users.committee).get(changes_url(own, version=9)).status_code == 404
    assert login(users.committee).get(changes_url(own, version="x")).status_code == 404
    for outsider in (users.other_committee, users.other_secretary, users.nobody):
        assert login(outsider).get(changes_url(own, version=1)).status_code == 404


def test_each_version_links_to_its_changes(two_versions, default, users, login):
    html = login(users.secretary).get(detail(default, version=3)).content.decode()
    versions = html.split('id="versions"')[1].split("</table>")[0]
    assert changes_url(default, version=3) in versions and changes_url(default, version=2) in versions
    assert changes_url(default, version=1) not in versions  # the first has nothing before it
    assert f'id="changes-link" href="{changes_url(default, version=3)}"' in html


# --- the version page shows everything a version holds -----------------------------------


def test_the_version_page_shows_requirements_items_weights_bands_limits_and_groups(two_versions, default, users, login):
    response = login(users.secretary).get(detail(default, version=3))
    assert response.context["selected"].number == 3
    html = response.content.decode()
    dimensions = html.split('id="dimensions"')[1].split("</table>")[0]
    assert "班子团结协作" in dimensions and "作风建设" in dimensions and "制度执行" not in dimensions
    assert "25%" in dimensions and "30%" in dimensions
    requirements = html.split('id="requirements"')[1].split("</table>")[0]
    assert "学习培训" in requirements and "民主评议党员" not in requirements and "六月" in requirements
    parameters = html.split('id="parameters"')[1].split("</dl>")[0]
    for text in ("★5 ≥ 30", "★2 ≥ 144", "每月15日", "不计入", "48", "56", "★5 ≥ 90"):
        assert text in parameters, text
    rules = html.split('id="rules"')[1].split("</table>")[0]
    assert "技术攻关成果" in rules and "合理化建议实施" not in rules


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_version_and_changes_pages_query_counts_do_not_grow_with_what_a_version_holds(
    two_versions, default, users, login
):
    client = login(users.admin)
    _v2, v3 = two_versions
    few = count_queries(client, detail(default, version=3))
    few_changes = count_queries(client, changes_url(default, version=3))
    # Grow version 3 (not graded, so its rows may still be added) and add versions.
    Rule.objects.bulk_create(
        Rule(
            version=v3,
            code=f"extra_{i}",
            name=f"附加规则{i}",
            category="exemplary",
            source="manual",
            points_min=D(1),
            points_max=D(2),
            sort_order=100 + i,
        )
        for i in range(10)
    )
    ScoreItem.objects.bulk_create(
        ScoreItem(version=v3, dimension="other", code=f"other_{i}", name=f"其他{i}", max_score=D(10), sort_order=i)
        for i in range(10)
    )
    MeetingRequirement.objects.bulk_create(
        MeetingRequirement(version=v3, kind=kind, frequency="yearly", due_month=3, sort_order=50)
        for kind in ("democratic_review", "volunteer", "other")
    )
    create(default, month=datetime.date(2025, 7, 1))
    create(default, month=datetime.date(2025, 8, 1))
    assert count_queries(client, detail(default, version=3)) == few
    assert count_queries(client, changes_url(default, version=3)) == few_changes


# --- the board's link to the version that graded a month -----------------------------------


def test_the_explanations_version_link_lands_on_the_version_that_graded_the_month(tree, default, users, login):
    create(default, month=MAY, note="五月起")
    draft(tree.plant, APRIL, {tree.branch_a: "50", tree.branch_b: "60"})
    publish(tree.plant, APRIL)
    draft(tree.plant, MAY, {tree.branch_a: "55", tree.branch_b: "65"})
    publish(tree.plant, MAY)
    client = login(users.secretary)
    for month, number in ((APRIL, 1), (MAY, 2)):
        html = client.get(
            reverse("grading:explain_branch", args=[tree.plant.pk, month.year, month.month, tree.branch_a.pk])
        ).content.decode()
        link = html.split('id="rule-version"')[1].split('href="')[1].split('"')[0].replace("&amp;", "&")
        assert link == detail(default, version=number)
        page = client.get(link)
        assert page.status_code == 200 and page.context["selected"].number == number


# --- the form edits the whole scheme --------------------------------------------------------


class FormReader(HTMLParser):
    """What a browser without JavaScript would post: the form's inputs, selects and
    checked boxes with their values; nothing inside a <template>."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._template = 0
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "template":
            self._template += 1
        if self._template or not a.get("name"):
            if tag == "option" and self._select and "selected" in a:
                self.data.setdefault(self._select, []).append(a.get("value", ""))
            return
        if tag == "input":
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.data.setdefault(a["name"], []).append(a.get("value", "on"))
            elif a.get("type") != "submit":
                self.data.setdefault(a["name"], []).append(a.get("value", ""))
        elif tag == "select":
            self._select = a["name"]
            self.data.setdefault(self._select, [])

    def handle_endtag(self, tag):
        if tag == "template":
            self._template -= 1
        if tag == "select":
            self._select = None


def read_form(client, url) -> dict:
    response = client.get(url)
    assert response.status_code == 200
    reader = FormReader()
    reader.feed(response.content.decode())
    data = {k: (v if len(v) > 1 else (v[0] if v else "")) for k, v in reader.data.items()}
    data.pop("csrfmiddlewaretoken", None)
    return data


def test_the_form_is_prefilled_with_the_whole_scheme_and_posting_it_unchanged_copies_it(default, users, login):
    v1 = default.versions.get()
    create(default, score_items=ITEMS, parameters={"themed_day": 15})
    client = login(users.admin)
    data = read_form(client, new_version_url(default))
    assert (
        data["weight_basics"] == "30.00" and data["themed_day"] == "15" and data["themed_day_elsewhere_counts"] == "on"
    )
    assert data["requirements-5-kind"] == "org_life_meeting" and data["requirements-5-due_month"] == "12"
    assert data["items-0-name"] == "班子团结" and data["items-0-code"] == "committee_work_1"
    # A few blank rows for adding without JavaScript.
    assert data["requirements-7-kind"] == data["requirements-8-kind"] == ""
    assert data["rules-new0-name"] == data["rules-new1-name"] == ""
    assert data["effective_month"] == "2025-06"

    response = client.post(new_version_url(default), data)
    assert response.status_code == 302, response.context and response.context["form"].errors
    v2, v3 = default.versions.get(number=2), default.versions.get(number=3)
    assert [(r.kind, r.frequency, r.per_group, r.due_month) for r in v3.requirements.all()] == [
        (r.kind, r.frequency, r.per_group, r.due_month) for r in v1.requirements.all()
    ]
    assert [(i.code, i.name, i.max_score) for i in v3.score_items.order_by("sort_order")] == [
        (i.code, i.name, i.max_score) for i in v2.score_items.order_by("sort_order")
    ]
    assert {r.code for r in v3.rules.all()} == {r.code for r in v1.rules.all()}
    assert v3.themed_day == 15 and v3.weights == v1.weights


def test_committee_staff_change_the_scheme_in_the_form(tree, default, users, login):
    own = create(committee=tree.plant).rule_set
    client = login(users.committee)
    data = read_form(client, new_version_url(own))
    data.update(
        {
            "effective_month": "2025-07",
            "weight_basics": "20",
            "weight_committee_work": "25",
            "basics_entered": "on",
            "bottom_three_count": "2",
            "year_star5_from": "400",
            "year_star4_from": "300",
            "year_star3_from": "200",
            "year_star2_from": "100",
            "group_weight_points": "40",
            "group_weight_meetings": "60",
            "cadre_training_hours": "64",
            # a requirement dropped, one added in a blank row
            "requirements-6-remove": "on",
            "requirements-7-kind": "training",
            "requirements-7-frequency": "quarterly",
            # items for basic work (entered now) in its blank rows
            "items-0-name": "台账规范",
            "items-0-max_score": "40",
            "items-1-name": "阵地建设",
            "items-1-max_score": "60",
            # a rule retired, one changed, one added
            "rules-suggestion_adopted-retire": "on",
            "rules-volunteer-points_min": "4",
            "rules-volunteer-points_max": "4",
            "rules-new0-category": "org_life",
            "rules-new0-source": "attendance",
            "rules-new0-name": "参加组织生活会",
            "rules-new0-activity_kinds": ["org_life_meeting", "democratic_review"],
            "rules-new0-attendance_statuses": ["present"],
            "rules-new0-points_min": "3",
            "rules-new0-points_max": "3",
        }
    )
    assert data["items-0-dimension"] == "basics"
    response = client.post(new_version_url(own), data)
    assert response.status_code == 302, response.context and response.context["form"].errors
    v2 = own.versions.get(number=2)
    assert response["Location"] == detail(own, version=2)
    assert (v2.weight_basics, v2.weight_committee_work, v2.basics_entered, v2.bottom_three_count) == (20, 25, True, 2)
    assert v2.year_bands()[3] == (2, D(100)) and v2.group_weight_meetings == 60 and v2.cadre_training_hours == 64
    assert [r.kind for r in v2.requirements.all()][-1] == "training"
    assert not v2.requirements.filter(kind="democratic_review").exists()
    assert {(i.code, i.name) for i in v2.score_items.all()} == {("basics_1", "台账规范"), ("basics_2", "阵地建设")}
    rules = {r.code: r for r in v2.rules.all()}
    assert "suggestion_adopted" not in rules and rules["volunteer"].points_min == 4
    added = rules["org_life_1"]
    assert (added.source, added.activity_kinds, added.attendance_statuses) == (
        "attendance",
        ["democratic_review", "org_life_meeting"],
        ["present"],
    )


def test_rows_added_by_the_script_are_read_back_by_their_numbers(default, users, login):
    client = login(users.admin)
    data = read_form(client, new_version_url(default))
    # Rows the script numbered past the blank ones.
    data.update(
        {
            "rules-new7-category": "political",
            "rules-new7-source": "manual",
            "rules-new7-name": "撰写学习心得",
            "rules-new7-points_min": "1",
            "rules-new7-points_max": "2",
            "requirements-20-kind": "training",
            "requirements-20-frequency": "monthly",
            "items-30-dimension": "other",
            "items-30-name": "信访维稳",
            "items-30-max_score": "100",
        }
    )
    response = client.post(new_version_url(default), data)
    assert response.status_code == 302, response.context["form"].errors
    v2 = default.versions.get(number=2)
    assert v2.rules.get(code="political_1").name == "撰写学习心得"
    assert v2.requirements.filter(kind="training").exists()
    assert v2.score_items.get().code == "other_1"


def test_an_invalid_scheme_shows_each_error_by_its_value_and_saves_nothing(default, users, login):
    client = login(users.admin)
    data = read_form(client, new_version_url(default))
    data.update(
        {
            "weight_basics": "35",
            "star3_from": "40",
            "group_weight_points": "70",
            "requirements-0-kind": "themed_day",  # now twice
            "requirements-7-kind": "party_lecture",
            "requirements-7-frequency": "yearly",  # and twice, with no month
            "items-0-name": "台账规范",  # basic work is computed: no items
            "items-0-max_score": "100",
            "items-2-name": "班子团结",
            "items-2-max_score": "90",
            "rules-new0-category": "exemplary",
            "rules-new0-name": "",
            "rules-new0-points_min": "1",
            "rules-new0-points_max": "2",
        }
    )
    response = client.post(new_version_url(default), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert {"star3_from", "requirements-2-kind", "requirements-7-kind", "requirements-7-due_month"} <= set(form.errors)
    assert "rules-new0-name" in form.errors
    assert set(form.section_errors) == {"weights", "group_weights", "items-basics", "items-committee_work"}
    html = response.content.decode()
    assert 'data-section-error="weights"' in html and 'data-section-error="items-basics"' in html
    assert "is-invalid" in html and 'id="form-errors"' in html
    assert default.versions.count() == 1
    # What was typed stays in the form.
    assert 'value="35"' in html and 'value="台账规范"' in html
    assert "('weights'" not in html  # each section shows its own messages, not the lot


def test_an_item_code_the_base_never_had_is_refused_on_the_items_section(default, users, login):
    create(default, score_items=ITEMS)
    client = login(users.admin)
    data = read_form(client, new_version_url(default))
    data["items-0-code"] = "made_up"
    response = client.post(new_version_url(default), data)
    assert response.status_code == 200
    assert list(response.context["form"].section_errors) == ["score_items", "items-committee_work"]
    html = response.content.decode()
    section = html.split('data-section-error="score_items"')[1].split("</div>")[0]
    assert "made_up" in section
    assert default.versions.count() == 2


def test_the_customise_form_edits_the_inherited_scheme_and_makes_version_1(tree, default, users, login):
    create(default, score_items=ITEMS)
    client = login(users.committee)
    data = read_form(client, customise_url(tree.plant))
    data.update(
        {"effective_month": "2025-06", "themed_day": "21", "items-1-max_score": "30", "items-0-max_score": "70"}
    )
    response = client.post(customise_url(tree.plant), data)
    own = RuleSet.objects.get(committee=tree.plant)
    assert response.status_code == 302 and response["Location"] == detail(own, version=1)
    assert {(i.code, i.max_score) for i in own.versions.get().score_items.all()} == {
        ("committee_work_1", D(70)),
        ("committee_work_2", D(30)),
    }


# --- who may -------------------------------------------------------------------------------


def test_a_secretary_gets_403_and_an_outsider_404_on_the_form(tree, default, users, login):
    own = create(committee=tree.plant).rule_set
    secretary = login(users.secretary)
    assert secretary.get(new_version_url(own)).status_code == 403
    assert secretary.post(new_version_url(own), {"effective_month": "2025-07"}).status_code == 403
    for outsider in (users.other_committee, users.other_secretary):
        client = login(outsider)
        assert client.get(new_version_url(own)).status_code == 404
        assert client.post(new_version_url(own), {"effective_month": "2025-07"}).status_code == 404
    assert own.versions.count() == 1


def test_scored_items_of_a_graded_version_are_untouched_by_a_new_version(tree, default, users):
    v2 = create(default, score_items=ITEMS)
    item = v2.score_items.get(code="committee_work_1")
    ScoreInput.objects.create(
        branch=tree.branch_a, month=MAY, dimension="committee_work", item=item, score=D(50), entered_by=users.committee
    )
    v3 = create(default, month=JUNE, score_items=[{"code": "committee_work_1", "name": "新名称", "max_score": "100"}])
    item.refresh_from_db()
    assert (item.name, item.max_score, item.version) == ("班子团结", D(60), v2)
    assert v3.score_items.get().pk != item.pk


def test_the_form_query_count_does_not_grow_with_items_requirements_or_rules(two_versions, default, users, login):
    client = login(users.admin)
    _v2, v3 = two_versions
    few = count_queries(client, new_version_url(default))
    ScoreItem.objects.bulk_create(
        ScoreItem(version=v3, dimension="other", code=f"other_{i}", name=f"其他{i}", max_score=D(10), sort_order=i)
        for i in range(10)
    )
    MeetingRequirement.objects.bulk_create(
        MeetingRequirement(version=v3, kind=kind, frequency="yearly", due_month=3, sort_order=50)
        for kind in ("democratic_review", "volunteer", "other")
    )
    Rule.objects.bulk_create(
        Rule(
            version=v3,
            code=f"extra_{i}",
            name=f"附加规则{i}",
            category="duty",
            source="manual",
            points_min=D(1),
            points_max=D(1),
            sort_order=100 + i,
        )
        for i in range(10)
    )
    assert count_queries(client, new_version_url(default)) == few
