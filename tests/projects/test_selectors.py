import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from branches.projects import selectors, services
from branches.projects.models import Project

pytestmark = pytest.mark.django_db


def test_the_list_counts_overdue_milestones_and_filters_by_them(project, draft, users, tree, kinds):
    today = timezone.localdate()
    late = services.milestone_add(project=project, title="逾期节点", due_on=today - datetime.timedelta(days=3))
    done = services.milestone_add(project=project, title="已验收节点", due_on=today - datetime.timedelta(days=9))
    services.milestone_accept(milestone=done, user=users.committee)
    services.milestone_add(project=project, title="未到期", due_on=today + datetime.timedelta(days=9))
    quiet = services.project_create(
        branch=tree.branch_b, kind=kinds["党员先锋工程"], title="无逾期", field="other", year=2026, user=None
    )
    services.value_record_add(project=project, month=today.replace(day=1), amount=Decimal("4.5"), user=None)
    rows = {p.title: p for p in selectors.project_list(projects=Project.objects.all(), today=today)}
    assert (rows["连铸坯质量攻关"].overdue_count, rows["连铸坯质量攻关"].milestone_count) == (1, 3)
    assert rows["连铸坯质量攻关"].value_total == Decimal("4.5")
    assert rows[quiet.title].overdue_count == 0
    overdue = selectors.project_list(projects=Project.objects.all(), today=today, overdue=True)
    assert [p.title for p in overdue] == ["连铸坯质量攻关"]
    assert late.pk


def test_the_branch_filter_finds_co_operating_projects_once(project, tree):
    project.co_branches.add(tree.branch_b)
    rows = list(
        selectors.project_list(projects=Project.objects.all(), today=timezone.localdate(), branch=tree.branch_b)
    )
    assert [p.pk for p in rows] == [project.pk]
    assert [p.pk for p in selectors.branch_projects(branch=tree.branch_b)] == [project.pk]


def test_a_committee_adds_a_kind_once_and_names_its_grades(tree, kinds):
    kind = services.project_kind_add(committee=tree.plant, name="一支部一项目")
    assert kind in selectors.kinds_for(committee=tree.plant)
    assert kind not in selectors.kinds_for(committee=tree.other)
    with pytest.raises(ValidationError):
        services.project_kind_add(committee=tree.plant, name="党员先锋工程")
    with pytest.raises(ValidationError):
        services.project_grade_names_set(committee=tree.plant, grade_1_name="优", grade_2_name="优", grade_3_name="良")
    services.project_grade_names_set(
        committee=tree.plant, grade_1_name="金牌", grade_2_name="银牌", grade_3_name="铜牌"
    )
    assert services.grade_names(committee=tree.plant) == {1: "金牌", 2: "银牌", 3: "铜牌"}
    assert services.grade_names(committee=tree.other) == {1: "一等", 2: "二等", 3: "三等"}
