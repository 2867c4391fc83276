"""How the pages read in Chinese: states as states, rules by their names, the default
rules as what they are, months as "2026年9月", and every label through gettext."""

import datetime

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone, translation

from branches.grading import publishing
from branches.grading.models import BranchScore
from members.ledger.models import RuleSet

from .grading.test_boards import APRIL, draft, publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def default():
    return RuleSet.objects.get(committee__isnull=True)


def test_a_recorded_talk_reads_as_a_state(tree, users, login):
    draft(tree.plant, APRIL, {tree.branch_a: "50", tree.branch_b: "60"})
    # Published rows are append-only: the branch is in the bottom three in the draft.
    BranchScore.objects.filter(committee=tree.plant, month=APRIL, branch=tree.branch_a).update(bottom_three=True)
    publish(tree.plant, APRIL)
    publishing.talk_record(
        committee=tree.plant,
        month=APRIL,
        branch=tree.branch_a,
        held_on=timezone.localdate(),
        talked_by="党委书记",
        talked_with="支部书记",
        notes="谈话内容",
        actions="整改措施",
        user=users.committee,
    )

    html = login(users.committee).get(reverse("grading:talks", args=[tree.plant.pk])).content.decode()

    badge = html.split(f'id="talk-202504-{tree.branch_a.pk}"')[1].split('class="badge')[1].split("</span>")[0]
    assert "已记录" in badge and "记录时间" not in badge


def test_the_rules_page_shows_rule_names_not_codes(default, users, login):
    html = login(users.secretary).get(default.get_absolute_url()).content.decode()
    rules = html.split('id="rules"')[1].split("</table>")[0]
    assert "无故缺席三会一课或主题党日" in rules
    visible = rules.replace('data-code="', 'data-code-hidden="')
    for code in default.versions.get().rules.values_list("code", flat=True):
        assert f">{code}<" not in visible and f" {code} " not in visible


def test_the_default_rules_read_as_the_systems_default_from_the_start(default, users, login):
    client = login(users.secretary)
    detail = client.get(default.get_absolute_url()).content.decode()
    listing = client.get(reverse("ledger:ruleset_list")).content.decode()

    assert "系统默认规则" in detail and "PRODUCT.md" not in detail
    assert "系统启用起" in detail and "2000-01" not in detail and "2000年1月" not in detail
    assert "系统启用起" in listing and "2000-01" not in listing and "2000年1月" not in listing


def test_a_later_version_reads_its_month_in_chinese(default, users, login):
    from members.ledger import rule_services

    base = default.versions.get()
    rule_services.rule_set_version_create(
        rule_set=default,
        committee=None,
        effective_month=datetime.date(2031, 9, 1),
        yearly_training_hours=base.yearly_training_hours,
        note="调整",
        rules=[],
        user=users.admin,
    )
    html = login(users.admin).get(default.get_absolute_url()).content.decode()
    assert "2031年9月" in html and "2031-09" not in html


@pytest.mark.parametrize(("language", "label"), [("zh-hans", "2026年9月"), ("en", "September 2026")])
def test_the_month_label_follows_the_language(language, label):
    with translation.override(language):
        rendered = Template("{% load months %}{{ month|month_label }}").render(
            Context({"month": datetime.date(2026, 9, 1)})
        )
    assert rendered == label


def test_the_board_names_its_month_in_chinese(tree, users, login):
    draft(tree.plant, APRIL, {tree.branch_a: "50", tree.branch_b: "60"})
    publish(tree.plant, APRIL)
    html = login(users.secretary).get(reverse("grading:board", args=[tree.plant.pk, 2025, 4])).content.decode()
    assert "2025年4月" in html and "2025-04" not in html


def test_the_breadcrumb_is_labelled_in_the_pages_language(tree, users, login):
    client = login(users.committee)
    html = client.get(tree.branch_a.get_absolute_url()).content.decode()
    assert 'aria-label="当前位置"' in html and 'aria-label="breadcrumb"' not in html
    client.cookies["django_language"] = "en"
    assert 'aria-label="Breadcrumb"' in client.get(tree.branch_a.get_absolute_url()).content.decode()


def test_a_recorded_award_is_confirmed_with_the_month_in_chinese(tree, users, member_a, login):
    from members.ledger.models import Rule

    rule = Rule.objects.get(version__rule_set__committee__isnull=True, code="study_task")
    client = login(users.secretary)
    response = client.post(
        reverse("ledger:record", args=[member_a.pk]),
        {"month": "2025-03", "rule": rule.pk, "points": "3", "reason": "学习任务"},
        follow=True,
    )
    messages = [str(m) for m in response.context["messages"]]
    assert len(messages) == 1 and "2025年3月" in messages[0] and "2025-03" not in messages[0]
